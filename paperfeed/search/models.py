"""Stored sentence embeddings: computed once in the background, reused by every process."""

from __future__ import annotations

import numpy as np
from django.db import models

from paperfeed.papers.models import Paper


class PaperEmbeddingQuerySet(models.QuerySet):
    def for_model(self, model: str) -> PaperEmbeddingQuerySet:
        return self.filter(model=model)


class PaperEmbedding(models.Model):
    """One paper's vector under one model (float16 bytes: half the size, same ranking)."""

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, primary_key=True,
                                 related_name="search_embedding")
    model = models.CharField(max_length=200)
    # Hash of the text that was embedded: a changed title or abstract makes it stale.
    text_hash = models.CharField(max_length=16)
    vector = models.BinaryField()
    created_at = models.DateTimeField(auto_now=True)

    objects = PaperEmbeddingQuerySet.as_manager()

    def __str__(self) -> str:
        return f"embedding of paper {self.paper_id} ({self.model})"

    @staticmethod
    def pack(vector: np.ndarray) -> bytes:
        return np.asarray(vector, dtype=np.float16).tobytes()

    @staticmethod
    def unpack(data: bytes | memoryview) -> np.ndarray:
        return np.frombuffer(bytes(data), dtype=np.float16).astype(np.float32)


class SearchPaper(Paper):
    """A paper as a search result: same row, with the matching words marked."""

    highlighted_snippet = None

    class Meta:
        proxy = True

    @property
    def abstract_snippet(self) -> str:
        return self.highlighted_snippet if self.highlighted_snippet is not None else super().abstract_snippet


class SearchHost(models.Model):
    """A host whose follower applies the change log to its own search indexes.

    Each follower reports here after applying entries (and now and then while idle), so
    ``paperfeed index status`` can show every host's lag and the log is pruned only
    below the slowest host that reported recently.
    """

    host_id = models.CharField(max_length=36, primary_key=True)
    name = models.CharField(max_length=300)
    # Its position in the change log (papers.changelog.Position).
    txid = models.BigIntegerField(default=0)
    change_id = models.BigIntegerField(default=0)
    bootstrapped_at = models.DateTimeField(null=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name
