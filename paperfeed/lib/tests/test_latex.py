"""Text to pdflatex-safe LaTeX: math kept when sure, accents as commands, specials escaped."""

from __future__ import annotations

import pytest

from paperfeed.lib.latex import to_latex


@pytest.mark.parametrize("text, latex", [
    ("$\\beta$-VAE", "$\\beta$-VAE"),
    ("Naïve", 'Na{\\"\\i}ve'),
    ("Núñez", "N{\\'u}{\\~n}ez"),
    ("Erdős–Rényi", "Erd{\\H{o}}s--R{\\'e}nyi"),
    ("Łódź", "{\\L}{\\'o}d{\\'z}"),
    ("α ≤ β", "{$\\alpha$} {$\\leq$} {$\\beta$}"),
    ("$α+β$", "$\\alpha +\\beta$"),
    ("$\\mathbb{R}^n$ and $\\text{ReLU}(x)$", "$\\mathbf{R}^n$ and $\\mbox{ReLU}(x)$"),
    ("a { b", "a \\textbraceleft{} b"),
    ("50% & #1_x ~ ^", "50\\% \\& \\#1\\_x \\textasciitilde{} \\textasciicircum{}"),
    ("$5 and $10", "\\$5 and \\$10"),  # dollars that do not hug their content are not math
    ("line\nbreak\x0c", "line break"),
    ("北京", "??"),
])
def test_it_turns_text_into_latex(text, latex):
    assert to_latex(text) == latex


@pytest.mark.parametrize("math", [
    "$x^a^b$", "$a_$", "$\\frac{1}{2$", "$\\left( x$", "$\\right)$", "$\\input{x}$",
    "$a % b$", "$a & b$", "$\\def\\x{y}$", "$x}{$", "$\\frac 12$", "$x^^41$",
])
def test_math_it_cannot_vouch_for_becomes_escaped_text(math):
    latex = to_latex(math)
    assert latex.startswith("\\$") and latex.endswith("\\$"), latex
