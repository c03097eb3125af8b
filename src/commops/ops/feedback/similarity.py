"""Which feedback items say the same thing: a text similarity score over pairs of items.

The score of two items is

    score = 0.35 * title_ratio + 0.65 * cosine

* ``title_ratio``: rapidfuzz's ``token_set_ratio`` of the two normalised titles, divided by
  100. It is high when the words of one title are (nearly) all in the other, whatever their
  order: "Dark mode for the web console" and "Console dark mode?" score 1.0.
* ``cosine``: the cosine of the two items' TF-IDF vectors over their normalised title (counted
  twice: the title is what the person asked for) and body. Inverse document frequency is taken
  over the items compared, so words that every item uses ("console", "project") weigh little
  and rare shared words ("dingtalk", "velero") weigh a lot. This is what keeps two titles that
  share only a common word apart, which ``token_set_ratio`` alone does not.

Normalising: Unicode NFKC, case folded; words are runs of ASCII letters and digits, with a
light stemmer (``repositories`` -> ``repository``, ``images`` -> ``image``); English stop words
and the words every request uses ("please", "support", "add", "feature", ...) are dropped; runs
of CJK characters become overlapping character pairs, so Chinese feedback compares too.

A pair is suggested when ``score >= THRESHOLD`` (0.40) and it is among the ``NEIGHBOURS`` (3)
best-scoring partners of one of its two items (pairs already decided left aside). The threshold
was chosen on the hand-written requests in ``tests/data/feedback/requests.csv``: every true
duplicate pair there scores 0.42 or more and every other pair 0.39 or less. Duplicates that
share no words ("arm64" and "aarch64", "dark mode" and "night theme") are out of reach of a
lexical score: group them by hand (``commops feedback theme assign``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from scipy import sparse

THRESHOLD = 0.40
TITLE_WEIGHT = 0.35
COSINE_WEIGHT = 0.65
# Each item is paired with at most this many of its best partners (see similar_pairs).
NEIGHBOURS = 3
# Items compared at a time against all others: bounds memory at BLOCK * n scores.
BLOCK = 512

_STOP_WORDS = """
    a an the and or but if of to in on at by for with from as is are was were be been being it
    its this that these those i we you they he she our your their my me us them there here do
    does did done have has had can could would should will shall may might must not no yes so
    too very just also only than then when where which who whom what how why all any each every
    some such more most other into onto over under about after before again once per via like
    please add adding added support supported supporting allow allowing able want wanted wants
    need needs needed feature features request requests today instead way make let get use
    using used one would love see thanks thank hi hello possible maybe
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

_WORD = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _stem(word: str) -> str:
    if word.isdigit():
        return word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """The words of ``text`` that carry meaning, normalised (see the module docstring)."""
    out: list[str] = []
    for match in _WORD.finditer(unicodedata.normalize("NFKC", text).casefold()):
        word = match.group()
        if not word.isascii():  # CJK: overlapping character pairs
            out += [word[i : i + 2] for i in range(max(1, len(word) - 1))]
        elif len(word) > 1 and word not in STOP_WORDS:
            out.append(_stem(word))
    return out


@dataclass(frozen=True)
class Text:
    """What is compared of one item."""

    key: int
    title: str
    body: str


@dataclass(frozen=True)
class Pair:
    """Two items (``a`` < ``b``) whose score reached the threshold, with its parts."""

    a: int
    b: int
    score: float
    title_ratio: float
    cosine: float


def _tfidf(docs: Sequence[list[str]]) -> sparse.csr_matrix:
    """Rows: documents as L2-normalised TF-IDF vectors (sublinear tf, smoothed idf)."""
    vocab: dict[str, int] = {}
    for doc in docs:
        for word in doc:
            vocab.setdefault(word, len(vocab))
    n = len(docs)
    df = np.zeros(max(len(vocab), 1))
    for doc in docs:
        for word in set(doc):
            df[vocab[word]] += 1
    idf = np.log((1 + n) / (1 + df)) + 1
    rows: list[int] = []
    cols: list[int] = []
    data: list[float] = []
    for i, doc in enumerate(docs):
        for word, count in Counter(doc).items():
            rows.append(i)
            cols.append(vocab[word])
            data.append((1 + math.log(count)) * float(idf[vocab[word]]))
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=(n, max(len(vocab), 1)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def similar_pairs(
    texts: Sequence[Text],
    threshold: float = THRESHOLD,
    neighbours: int | None = NEIGHBOURS,
    skip: Callable[[int, int], bool] | None = None,
) -> Iterator[Pair]:
    """The pairs of ``texts`` whose score is at least ``threshold``, each once, leaving out
    those ``skip(a_key, b_key)`` refuses (pairs decided before). With ``neighbours``, only each
    text's ``neighbours`` best partners (ties: the earlier text) are paired: twenty copies of
    one request give a star of suggestions around the first copies rather than all 190 pairs.
    ``None`` pairs everything above the threshold."""
    if len(texts) < 2:
        return
    title_tokens = [tokens(t.title) for t in texts]
    titles = [" ".join(t) for t in title_tokens]
    docs = [tt * 2 + tokens(t.body) for tt, t in zip(title_tokens, texts, strict=True)]
    matrix = _tfidf(docs)
    n = len(texts)
    seen: set[tuple[int, int]] = set()
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        ratios = process.cdist(titles[start:stop], titles, scorer=fuzz.token_set_ratio) / 100.0
        cosines = (matrix[start:stop] @ matrix.T).toarray()
        scores = TITLE_WEIGHT * ratios + COSINE_WEIGHT * cosines
        for row in range(stop - start):
            i = start + row
            scores[row, i] = -1.0  # never paired with itself
            above = np.nonzero(scores[row] >= threshold)[0]
            ranked = above[np.argsort(-scores[row, above], kind="stable")]
            taken = 0
            for col in ranked:
                if neighbours is not None and taken >= neighbours:
                    break
                j = int(col)
                a, b = sorted((texts[i].key, texts[j].key))
                if skip is not None and skip(a, b):
                    continue
                taken += 1
                if (a, b) in seen:
                    continue
                seen.add((a, b))
                yield Pair(
                    a=a,
                    b=b,
                    score=round(float(scores[row, j]), 4),
                    title_ratio=round(float(ratios[row, j]), 4),
                    cosine=round(float(cosines[row, j]), 4),
                )
