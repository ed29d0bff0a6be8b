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
