"""What banned words cost a text message (messaging/banned_words.py, docs/PERFORMANCE.md).

    .venv/bin/python -m bench.banned_words [--words 10000] [--repeat 2000]

Builds a list of ``--words`` words (half Latin, half Chinese, as a moderator's list of
several languages would be), then times ``contains`` (the refuse setting: every message)
and ``mask`` (the mask setting) on texts of 20, 500 and 12,000 characters that hold no
banned word, and on one that holds several. Prints the median microseconds per message
and the time to compile the list (paid once per process per change).
"""

import argparse
import random
import statistics
import time

from messaging.banned_words import BannedWords

CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
LATIN = "abcdefghijklmnopqrstuvwxyz"


def word_list(count, rng):
    words = set()
    while len(words) < count:
        if len(words) % 2:
            words.add("".join(rng.choice(CJK) for _ in range(rng.randint(2, 4))))
        else:
            words.add("".join(rng.choice(LATIN) for _ in range(rng.randint(5, 10))))
    return sorted(words)


def texts(rng, words):
    prose = "The quick brown fox jumps over the lazy dog. 我们明天下午三点在会议室见面讨论项目进度。"
    long = (prose * 200)[:12000]
    return {
        "20 chars": prose[:20],
        "500 chars": (prose * 10)[:500],
        "12,000 chars": long,
        "500 chars, 3 words": " ".join([(prose * 10)[:480], *words[:3]]),
    }


def per_message_us(function, text, repeat):
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            function(text)
        samples.append((time.perf_counter() - start) / repeat * 1e6)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(7)
    words = word_list(args.words, rng)
    start = time.perf_counter()
    matcher = BannedWords(words)
    compile_ms = (time.perf_counter() - start) * 1000
    print(f"{args.words:,} banned words, compiled in {compile_ms:.1f} ms")
    print(f"{'text':<22} {'contains µs':>12} {'mask µs':>10}")
    for name, text in texts(rng, words).items():
        contains = per_message_us(matcher.contains, text, args.repeat)
        mask = per_message_us(matcher.mask, text, max(1, args.repeat // 10))
        print(f"{name:<22} {contains:>12.1f} {mask:>10.1f}")


if __name__ == "__main__":
    main()
