"""Static files: hashed and compressed by ``collectstatic``, served by WhiteNoise.

``StaticStorage`` is WhiteNoise's ``CompressedManifestStaticFilesStorage``: each file
copied under a name with its content's hash, plus ``.gz`` and, with the ``brotli``
package, ``.br`` variants.

The UI is native ES modules with relative imports: the page loads
``chat/main.<hash>.js``, whose ``import ... from "./ui/x.js"`` resolves to the unhashed
``/static/chat/ui/x.js``. Rewriting the specifiers in the files (Django's
``support_js_module_import_aggregation``) cannot work here: the UI's modules import each
other in cycles (19 of them in one), and a file's hash would depend on its own. The page
carries an import map instead (``module_import_map``): every module's URL to its hashed
URL. Browsers apply it to relative imports too, since they match on the resolved URL.
The map is an inline script: the page's Content-Security-Policy names its SHA-256, and
still refuses any other inline script.

Before any ``collectstatic`` (no manifest at all: a bare ``daphne`` in a fresh
checkout, the tests' in-process app) URLs stay unhashed instead of every page failing
with "Missing staticfiles manifest entry", and the middleware serves the files from
where they are written (``static/``, the apps' folders), cached for 60 s. Once a
manifest exists, a name missing from it is an error again, and only STATIC_ROOT is served.

``StaticFilesMiddleware`` is WhiteNoise's middleware made async, for Daphne: WhiteNoise 6
is synchronous, and under Django's ASGI handler a sync-only middleware puts every request
(pages, uploads, the API) through a thread hop and back, while its file response is a
sync iterator, which Django's ASGI handler reads into a list in a thread anyway. Here the
lookup is a dict access on the event loop (the files were listed at start-up), other
requests go straight on, and a static file is read in a worker thread: the event loop
never waits for the disk (docs/DEPLOY.md, "Static files", has the measurement).
"""

import base64
import functools
import hashlib
import json
import os

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage

ONE_YEAR = 365 * 24 * 3600


class StaticStorage(CompressedManifestStaticFilesStorage):
    def stored_name(self, name):
        if not self.hashed_files:  # collectstatic never ran here
            return name
        return super().stored_name(name)


def module_import_map(prefix="chat/"):
    """The import map of the ES modules under ``prefix`` as ``(json, "'sha256-...'")``:
    the ``<script type="importmap">`` text and its CSP source; ``(None, None)`` when URLs
    are not hashed (no manifest, or another storage)."""
    hashed = getattr(staticfiles_storage, "hashed_files", None)
    if not hashed:
        return None, None
    return _import_map(prefix, staticfiles_storage.manifest_hash)


@functools.cache
def _import_map(prefix, manifest_hash):  # one per deploy: the manifest's hash is in the key
    imports = {
        settings.STATIC_URL + name: staticfiles_storage.url(name)
        for name in sorted(staticfiles_storage.hashed_files)
        if name.startswith(prefix) and name.endswith(".js")
    }
    # No "<" in a script element's text (there is none in these names; this makes sure).
    text = json.dumps({"imports": imports}, separators=(",", ":")).replace("<", "\\u003c")
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return text, f"'sha256-{digest}'"


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """Hashed names are cached for a year (``immutable``), others for 60 s (WhiteNoise's default)."""

    FOREVER = ONE_YEAR
    sync_capable = False
    async_capable = True

    def __init__(self, get_response):
        super().__init__(get_response)
        assert iscoroutinefunction(get_response), "Django hands an async-only middleware an async get_response"
        markcoroutinefunction(self)
        if not self.use_finders and not os.path.exists(os.path.join(self.static_root or "", "staticfiles.json")):
            # collectstatic never ran (see the module): the files where they are written.
            self.use_finders = True
            self.add_files_from_finders()

    async def __call__(self, request):
        if self.autorefresh:  # DEBUG: looks at the disk on each request
            static_file = await sync_to_async(self.find_file, thread_sensitive=False)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is None:
            return await self.get_response(request)
        return await sync_to_async(self.read_response, thread_sensitive=False)(static_file, request)

    @staticmethod
    def read_response(static_file, request):
        """WhiteNoise's answer (content negotiation, ranges, 304, HEAD) with the file read
        whole, in the worker thread: static files are small, and Django would read a
        file response's iterator into memory under ASGI anyway."""
        answer = static_file.get_response(request.method, request.META)
        body = b""
        if answer.file is not None:
            with answer.file:
                body = answer.file.read()
        response = HttpResponse(body, status=int(answer.status))
        del response["Content-Type"]
        for key, value in answer.headers:
            response[key] = value
        return response
