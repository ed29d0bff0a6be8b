"""The keyword index: BM25 over titles, abstracts and authors, kept in tantivy.

Why tantivy and not the database's own full-text search: at a million papers SQLite FTS5
ordered by ``bm25()`` scores every matching row (0.3-2.7 s for a common word here), and
PostgreSQL's ``ts_rank`` does the same; tantivy's block-max WAND skips documents that
cannot reach the top k (a few ms). The index is a folder of files, the same on SQLite
and PostgreSQL deployments, and several processes can read it while one writes.

Concurrency: tantivy allows one ``IndexWriter`` per folder across processes (a lock
file). Writers here take it for one short batch and retry while another process holds
it; readers notice a new commit through ``meta.json`` and reload before searching.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import tantivy

from paperfeed.search.query import ParsedQuery

log = logging.getLogger("paperfeed.search")

# Equal weights: boosting titles looked natural but measured worse (SciFact train BM25
# nDCG@10 0.668 at 1.0, 0.640 at 1.5, 0.611 at 2.0; NFCorpus unchanged; docs/search.md).
# Authors are searched as text too, so a bare surname finds the author's papers.
FIELD_BOOSTS = {"title": 1.0, "abstract": 1.0, "authors": 1.0}
WRITER_HEAP = 64_000_000
LOCK_WAIT_SECONDS = 60.0

# Related papers by words (a paper without an embedding): its title's words as a BM25
# query over every field, as a search for the title would rank them, less the words that
# more than RELATED_COMMON_SHARE of the documents have in that field ("the", "of", "with").
# Such a word weighs at most a quarter of a rare one (BM25's idf: ln 10 against ln 10^4)
# but its postings span the corpus, and scoring them was most of the work: at 1M papers
# the whole title cost a paper page 50-150 ms, its informative words 3-8 ms
# (docs/benchmarks.md, "paper-page"). Below RELATED_CHEAP_DF documents a word is cheap
# whatever its share, so a small corpus keeps every word.
RELATED_COMMON_SHARE = 0.1
RELATED_CHEAP_DF = 1000
RELATED_MAX_TERMS = 12  # the rarest ones, when a title has more


@dataclass
class KeywordDoc:
    id: int
    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    day: int = 0  # yyyymmdd of publication, 0 when unknown


class IndexBusy(RuntimeError):
    """Another process kept the writer lock for longer than we were willing to wait."""


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("abstract", tokenizer_name="en_stem")
    builder.add_text_field("authors", tokenizer_name="default")
    # Lower-cased codes and their archives ("cs.lg", "cs"), matched whole.
    builder.add_text_field("categories", tokenizer_name="raw")
    builder.add_integer_field("day", indexed=True, fast=True)
    return builder.build()


def _analyzer(stem: bool) -> tantivy.TextAnalyzer:
    # tantivy's own "default" and "en_stem" tokenizers, built again: tantivy-py does not
    # hand out an index's analyzers, and terms must be looked up as the index wrote them.
    builder = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
               .filter(tantivy.Filter.remove_long(40)).filter(tantivy.Filter.lowercase()))
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


_WORDS = _analyzer(stem=False)  # the authors field's terms
_STEMS = _analyzer(stem=True)  # the title and abstract fields' terms


def _quoted(text: str) -> str:
    # Parsed words contain only word characters, '.', '-' and apostrophes; quoting makes
    # tantivy's parser read them as text whatever they are ("AND", "title", "2401.1").
    return '"' + text.replace('"', " ").replace("\\", " ") + '"'


class KeywordIndex:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(self.directory), reuse=True)
        self._meta_mtime = self._stamp()
        self._lock = threading.Lock()

    # -- writing -----------------------------------------------------------------

    def _writer(self, threads: int = 1, heap: int = WRITER_HEAP) -> tantivy.IndexWriter:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        delay = 0.05
        while True:
            try:
                return self.index.writer(heap, threads)
            except ValueError as exc:
                if "LockBusy" not in str(exc) or time.monotonic() > deadline:
                    if "LockBusy" in str(exc):
                        raise IndexBusy(f"the keyword index {self.directory} is locked "
                                        "by another writer") from exc
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _document(self, doc: KeywordDoc) -> tantivy.Document:
        categories = sorted({c.lower() for c in doc.categories}
                            | {c.split(".")[0].lower() for c in doc.categories})
        return tantivy.Document(
            id=doc.id, title=doc.title, abstract=doc.abstract,
            authors=[a for a in doc.authors if a] or [""], categories=categories or [""],
            day=doc.day,
        )

    def upsert(self, docs: Iterable[KeywordDoc], delete_ids: Iterable[int] = (),
               *, threads: int = 1, heap: int = WRITER_HEAP, progress=None) -> int:
        """Replace these documents (and drop ``delete_ids``) in one commit."""
        return self._write(docs, delete_ids, everything=False, threads=threads, heap=heap,
                           progress=progress)

    def replace_all(self, docs: Iterable[KeywordDoc], *, threads: int = 1,
                    heap: int = WRITER_HEAP, progress=None) -> int:
        """Replace the whole index with ``docs`` in one commit (a rebuild).

        One writer for everything: no per-document delete (the index is emptied in the
        same commit), no commit per batch; tantivy flushes a segment whenever ``heap``
        fills, so memory stays bounded however many documents come. Readers see the old
        index until the commit, then the new one.
        """
        return self._write(docs, (), everything=True, threads=threads, heap=heap,
                           progress=progress)

    def _write(self, docs: Iterable[KeywordDoc], delete_ids: Iterable[int], *,
               everything: bool, threads: int, heap: int, progress) -> int:
        writer = self._writer(threads, heap)
        count = 0
        try:
            if everything:
                writer.delete_all_documents()
            for doc_id in delete_ids:
                writer.delete_documents_by_term("id", doc_id)
            for doc in docs:
                if not everything:
                    writer.delete_documents_by_term("id", doc.id)
                writer.add_document(self._document(doc))
                count += 1
                if progress is not None:
                    progress(1)
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        finally:
            del writer  # releases the lock file
        self.refresh(force=True)
        return count

    def clear(self) -> None:
        writer = self._writer()
        try:
            writer.delete_all_documents()
            writer.commit()
            writer.wait_merging_threads()
        finally:
            del writer
        self.refresh(force=True)

    # -- reading -----------------------------------------------------------------

    def _stamp(self) -> float:
        try:
            return os.stat(self.directory / "meta.json").st_mtime_ns
        except FileNotFoundError:
            return 0

    def stamp(self) -> float:
        """When the index last changed (its ``meta.json``, rewritten by every commit)."""
        return self._stamp()

    def refresh(self, force: bool = False) -> None:
        """Pick up commits made by any process (a stat per search when nothing changed)."""
        stamp = self._stamp()
        if force or stamp != self._meta_mtime:
            with self._lock:
                self.index.reload()
                self._meta_mtime = stamp

    @property
    def num_docs(self) -> int:
        self.refresh()
        return self.index.searcher().num_docs

    def text_query(self, parsed: ParsedQuery) -> tantivy.Query | None:
        parts = [_quoted(w) for w in parsed.words] + [_quoted(p) for p in parsed.phrases]
        if not parts:
            return None
        return self.index.parse_query(" ".join(parts), list(FIELD_BOOSTS), FIELD_BOOSTS)

    def constraint_query(self, parsed: ParsedQuery, filters: dict | None) -> tantivy.Query | None:
        """Everything that narrows without ranking: exclusions, authors, categories, dates."""
        filters = filters or {}
        must: list[tantivy.Query] = []
        must_not: list[tantivy.Query] = []
        authors = list(parsed.authors) + ([filters["author"]] if filters.get("author") else [])
        for name in authors:
            must.append(self.index.parse_query(_quoted(name), ["authors"]))
        categories = list(parsed.categories)
        if filters.get("category"):
            categories.append(filters["category"])
        for code in categories:
            must.append(tantivy.Query.term_query(self.schema, "categories", code.lower()))
        low, high = _day_bounds(parsed, filters)
        if low is not None or high is not None:
            must.append(tantivy.Query.range_query(
                self.schema, "day", tantivy.FieldType.Integer, low if low is not None else 1,
                high,
            ))
        for text in parsed.excluded:
            must_not.append(self.index.parse_query(_quoted(text), list(FIELD_BOOSTS)))
        if not must and not must_not:
            return None
        clauses = [(tantivy.Occur.Must, q) for q in must]
        if not clauses:
            clauses = [(tantivy.Occur.Must, tantivy.Query.all_query())]
        clauses += [(tantivy.Occur.MustNot, q) for q in must_not]
        return tantivy.Query.const_score_query(tantivy.Query.boolean_query(clauses), 0.0)

    def search(self, parsed: ParsedQuery, filters: dict | None = None, *, limit: int = 20,
               offset: int = 0, newest: bool = False) -> tuple[list[tuple[int, float]], int]:
        """(paper id, score) best first, and how many documents match in all."""
        self.refresh()
        text = self.text_query(parsed)
        constraint = self.constraint_query(parsed, filters)
        if text is None and constraint is None:
            return [], 0
        clauses = []
        if text is not None:
            clauses.append((tantivy.Occur.Must, text))
        if constraint is not None:
            clauses.append((tantivy.Occur.Must, constraint))
        query = clauses[0][1] if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)
        searcher = self.index.searcher()
        # Without words there is nothing to rank by relevance: newest first then.
        by_day = newest or text is None
        # tantivy refuses a limit of 0; a caller asking only for the count gets no hits.
        result = searcher.search(query, max(limit, 1), count=True, offset=offset,
                                 order_by_field="day" if by_day else None)
        addresses = [address for _, address in result.hits][:limit]
        ids = searcher.fast_field_values("id", addresses) if addresses else []
        scores = [0.0 if by_day else float(score) for score, _ in result.hits][:limit]
        return list(zip(ids, scores, strict=True)), result.count

    def related(self, text: str, *, limit: int = 10,
                common_share: float = RELATED_COMMON_SHARE,
                cheap_df: int = RELATED_CHEAP_DF) -> list[tuple[int, float]]:
        """(paper id, score) of the documents that share ``text``'s informative words (see
        RELATED_COMMON_SHARE), best first."""
        self.refresh()
        searcher = self.index.searcher()
        terms = self.related_terms(text, searcher, common_share=common_share,
                                   cheap_df=cheap_df)
        if not terms:
            return []
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Should, _boosted(tantivy.Query.term_query(
                self.schema, name, term, index_option="freq"), FIELD_BOOSTS[name]))
            for name, term in terms
        ])
        result = searcher.search(query, max(limit, 1), count=False)
        addresses = [address for _, address in result.hits][:limit]
        ids = searcher.fast_field_values("id", addresses) if addresses else []
        return [(pid, float(score)) for pid, (score, _) in zip(ids, result.hits, strict=False)]

    def related_terms(self, text: str, searcher: tantivy.Searcher | None = None, *,
                      common_share: float = RELATED_COMMON_SHARE,
                      cheap_df: int = RELATED_CHEAP_DF) -> list[tuple[str, str]]:
        """The (field, term) pairs :meth:`related` searches for ``text``, rarest word first.

        A title of common words only still gets its rarest word (one word costs little
        however common: block-max WAND skips what cannot reach the top).
        """
        if searcher is None:
            self.refresh()
            searcher = self.index.searcher()
        most = max(cheap_df, common_share * searcher.num_docs)
        words: list[tuple[int, list[tuple[str, str, int]]]] = []
        seen: set[str] = set()
        for word in _WORDS.analyze(text):
            stems = _STEMS.analyze(word)
            if not stems or stems[0] in seen:
                continue
            seen.add(stems[0])
            found = [(name, term, searcher.doc_freq(name, term))
                     for name, term in (("title", stems[0]), ("abstract", stems[0]),
                                        ("authors", word))]
            found = [(name, term, df) for name, term, df in found if df]
            if found:
                words.append((sum(df for *_, df in found), found))
        words.sort(key=lambda item: item[0])
        chosen = []
        for _, found in words:
            # A word common in the text fields says nothing, even if some author is
            # named so ("With", "Long").
            text = [df for name, _, df in found if name != "authors"]
            if not text or min(text) <= most:
                chosen.append([(name, term) for name, term, df in found if df <= most])
        if not chosen and words:
            chosen = [[(name, term) for name, term, _ in words[0][1]]]
        return [pair for pairs in chosen[:RELATED_MAX_TERMS] for pair in pairs]

    def allowed(self, ids: list[int], constraint: tantivy.Query) -> set[int]:
        """Which of ``ids`` pass ``constraint`` (to filter results that came from vectors)."""
        if not ids:
            return set()
        self.refresh()
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, tantivy.Query.term_set_query(self.schema, "id", ids)),
            (tantivy.Occur.Must, constraint),
        ])
        searcher = self.index.searcher()
        result = searcher.search(query, len(ids), count=False)
        return set(searcher.fast_field_values("id", [a for _, a in result.hits]))

    def scores_for(self, parsed: ParsedQuery, ids: list[int]) -> dict[int, float]:
        """BM25 scores of just these documents (those that match no word score nothing)."""
        text = self.text_query(parsed)
        if text is None or not ids:
            return {}
        self.refresh()
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, text),
            (tantivy.Occur.Must, tantivy.Query.const_score_query(
                tantivy.Query.term_set_query(self.schema, "id", ids), 0.0)),
        ])
        searcher = self.index.searcher()
        result = searcher.search(query, len(ids), count=False)
        found = searcher.fast_field_values("id", [a for _, a in result.hits])
        return {pid: float(score) for pid, (score, _) in zip(found, result.hits, strict=True)}


def _boosted(query: tantivy.Query, boost: float) -> tantivy.Query:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


def _day_bounds(parsed: ParsedQuery, filters: dict) -> tuple[int | None, int | None]:
    low = high = None
    if parsed.year_from is not None:
        low = parsed.year_from * 10000 + 101
    if parsed.year_to is not None:
        high = parsed.year_to * 10000 + 1231
    if filters.get("date_from"):
        day = int(filters["date_from"].strftime("%Y%m%d"))
        low = max(low or 0, day)
    if filters.get("date_to"):
        day = int(filters["date_to"].strftime("%Y%m%d"))
        high = min(high, day) if high is not None else day
    return low, high
