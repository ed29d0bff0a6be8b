"""Signals the core sends, so other apps can follow changes without papers importing them."""

from django.dispatch import Signal

# Sent after the transaction that created or changed papers has committed.
# Arguments: paper_ids (list[int]) — papers created or changed, in no particular order.
papers_changed = Signal()

# Sent after a bulk import that deferred its announcements (see papers.announcing).
# Arguments: since (datetime) — every paper whose updated_at >= since may have changed;
# progress (callable(done, total) or None) — for listeners with long work to report.
papers_changed_since = Signal()
