"""The recommender's model on small real texts (seed abstracts) and simple vectors."""

import numpy as np
import pytest

from paperfeed.recommend import model as rec
from paperfeed.recommend.evaluation import load_pages, ndcg_at_10
from paperfeed.recommend.features import lexical_features


@pytest.fixture(scope="module")
def corpus(demo_seeds):
    return load_pages(demo_seeds)


def _topic_vectors(corpus, page: str) -> np.ndarray:
    """Stand-in embeddings that know only each paper's page, plus noise."""
    rng = np.random.default_rng(0)
    pages = sorted({t for topics in corpus.topics for t in topics})
    vectors = rng.standard_normal((len(corpus.texts), 16)).astype(np.float32) * 0.5
    for i, topics in enumerate(corpus.topics):
        for t in topics:
            vectors[i, pages.index(t)] += 1.0
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_it_ranks_papers_of_the_liked_topic_first(corpus):
    page = "004_cf9603b38fab2277.txt"
    members = [i for i, t in enumerate(corpus.topics) if page in t]
    liked, rest = members[:5], [i for i in range(len(corpus.texts)) if i not in members[:5]]
    lexical, semantic = lexical_features(corpus.texts), _topic_vectors(corpus, page)
    model = rec.train(lexical[liked], semantic[liked], lexical[rest], semantic[rest])
    scores = model.score(lexical[rest], semantic[rest])
    top = [rest[i] for i in np.argsort(-scores)[:10]]
    assert sum(page in corpus.topics[i] for i in top) >= 8


def test_scores_do_not_depend_on_the_batch_and_survive_storage(corpus):
    lexical = lexical_features(corpus.texts)
    semantic = _topic_vectors(corpus, "")
    model = rec.train(lexical[:3], semantic[:3], lexical[50:200], semantic[50:200])
    batch = model.score(lexical[200:260], semantic[200:260])
    alone = np.array([model.score(lexical[i:i + 1], semantic[i:i + 1])[0] for i in range(200, 260)])
    np.testing.assert_allclose(batch, alone, rtol=1e-5, atol=1e-5)
    restored = rec.UserModel.from_bytes(model.to_bytes())
    np.testing.assert_allclose(restored.score(lexical[200:260], semantic[200:260]), batch, atol=2e-3)
    assert len(model.to_bytes()) < 100_000


def test_scoring_many_users_at_once_matches_scoring_each(corpus):
    lexical, semantic = lexical_features(corpus.texts), _topic_vectors(corpus, "")
    models = [rec.train(lexical[i:i + 4], semantic[i:i + 4], lexical[100:300], semantic[100:300])
              for i in (0, 20, 40)]
    new_lex, new_sem = lexical[300:], semantic[300:]
    for model, (best, scores) in zip(models, rec.score_many(models, new_lex, new_sem, top=5), strict=True):
        expected = model.score(new_lex, new_sem)
        assert list(best) == list(np.argsort(-expected, kind="stable")[:5])
        np.testing.assert_allclose(scores, expected[best], rtol=1e-4, atol=1e-4)


def test_dismissed_papers_push_similar_ones_down(corpus):
    lexical, semantic = lexical_features(corpus.texts), _topic_vectors(corpus, "")
    background = list(range(100, 300))
    plain = rec.train(lexical[:5], semantic[:5], lexical[background], semantic[background])
    weights = np.ones(len(background))
    weights[:20] = 10.0  # the user said "not interested" to the first 20
    dismissive = rec.train(lexical[:5], semantic[:5], lexical[background], semantic[background], weights)
    dismissed = slice(100, 120)
    assert dismissive.score(lexical[dismissed], semantic[dismissed]).mean() < plain.score(
        lexical[dismissed], semantic[dismissed]).mean()


def test_a_model_needs_papers_on_both_sides():
    lexical = lexical_features(["a paper about graphs", "another about cells"])
    semantic = np.eye(2, dtype=np.float32)
    with pytest.raises(ValueError, match="at least one"):
        rec.train(lexical[:0], semantic[:0], lexical, semantic)


def test_ndcg_counts_rank_and_ideal():
    assert ndcg_at_10([1, 1, 0], 2) == pytest.approx(1.0)
    assert ndcg_at_10([0, 1], 1) == pytest.approx(1 / np.log2(3))
    assert ndcg_at_10([0, 0], 0) == 0.0


def test_papers_without_embeddings_are_scored_by_their_words(corpus):
    lexical, semantic = lexical_features(corpus.texts), _topic_vectors(corpus, "")
    holes = semantic.copy()
    holes[::3] = np.nan  # every third paper has no embedding yet
    model = rec.train(lexical[:5], holes[:5], lexical[100:300], holes[100:300])
    scores = model.score(lexical[300:], holes[300:])
    assert np.isfinite(scores).all()
    words_only = rec.train(lexical[:5], np.full((5, 16), np.nan, np.float32), lexical[100:300], holes[100:300])
    assert words_only.positives.shape[0] == 0
    assert np.isfinite(words_only.score(lexical[300:], holes[300:])).all()
    [(best, top)] = rec.score_many([model], lexical[300:], holes[300:], top=5)
    np.testing.assert_allclose(top, np.sort(scores)[::-1][:5], rtol=1e-4, atol=1e-4)
