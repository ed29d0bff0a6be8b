"""Signals the core sends, so other apps can follow changes without papers importing them."""

from django.dispatch import Signal

# Sent after the transaction that created or changed papers has committed.
# Arguments: paper_ids (list[int]) — papers created or changed, in no particular order.
papers_changed = Signal()
