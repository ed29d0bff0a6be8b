from paperfeed.lib.library import read_library

ZOTERO = r"""
@article{vaswani2017attention,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam},
  year = {2017},
  eprint = {1706.03762},
  archivePrefix = {arXiv},
}
@misc{old,
  title = {{An Old-Style Paper}},
  url = {https://arxiv.org/abs/hep-th/9901001v2},
}
@inproceedings{nodoi,
  title = "A Paper Without an Id",
  doi = {10.48550/arXiv.2401.12345},
}
"""


def test_it_finds_ids_and_titles_in_bibtex():
    library = read_library(ZOTERO)
    assert library.arxiv_ids == ["1706.03762", "hep-th/9901001", "2401.12345"]
    assert library.titles == ["Attention Is All You Need", "An Old-Style Paper", "A Paper Without an Id"]


def test_it_reads_a_plain_list_and_ignores_junk():
    library = read_library("2401.12345\narXiv:2310.06825v2\n\nhttps://arxiv.org/pdf/2305.10601.pdf\n1234.99999x\nhello 9999.99999")
    assert library.arxiv_ids == ["2401.12345", "2310.06825", "2305.10601"]
    assert read_library("").arxiv_ids == []
