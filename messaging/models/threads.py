from django.conf import settings
from django.db import models


class Thread(models.Model):
    """The shared message stream of one C2C pair, one group, or one user's system conversation.

    ``last_seq`` is the highest sequence given out; it is only ever advanced by
    ``UPDATE ... SET last_seq = last_seq + 1 ... RETURNING`` inside the transaction
    that inserts the message, so sequences are gap-free and strictly increasing.
    """

    class Kind(models.TextChoices):
        C2C = "C2C"
        GROUP = "GROUP"
        SYSTEM = "@TIM#SYSTEM"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    # "c2c:<low pk>:<high pk>", "group:<group pk>" or "system:<user pk>".
    key = models.CharField(max_length=80, unique=True)
    last_seq = models.BigIntegerField(default=0)
    # The thread's change counter: +1 for every stored message and every change to one
    # (a recall), in the same UPDATE and under the same row lock as ``last_seq``. Each
    # Message keeps the value of its last change (``Message.change``), so "every change
    # after c" is one index range: what ``sync`` (queries/sync.py) answers.
    last_change = models.BigIntegerField(default=0)
    # Retention (actions.purge_history): every message up to this sequence was purged.
    # Reads start after it (each conversation's ``min_seq`` is raised with it), so the
    # missing part of the history is intentional, never a gap to recover.
    purged_seq = models.BigIntegerField(default=0)
    # For C2C: the two users, low pk first. Deleting one of them keeps the thread: its
    # messages are the other party's history too (SET_NULL, never CASCADE).
    user_low = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user_high = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.key

    @staticmethod
    def c2c_key(user_a_pk, user_b_pk):
        low, high = sorted((user_a_pk, user_b_pk))
        return f"c2c:{low}:{high}"
