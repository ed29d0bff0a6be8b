"""Text into LaTeX that compiles under pdflatex with no package, for BibTeX fields.

Titles and abstracts arrive with LaTeX math (``$\\beta$-VAE``), accented names (``Naïve``,
``Núñez``), symbols and the odd hostile string. What comes out:

- ``$...$`` (and ``\\(...\\)``) stays math when every part of it is math pdflatex knows
  without packages and its braces and scripts are well formed; otherwise it is text;
- other characters become LaTeX commands in BibTeX's special-character form (``{\\"i}``),
  Greek letters and math symbols become ``{$\\beta$}``, the rest is folded to ASCII;
- ``# $ % & _ { } ~ ^ \\`` are escaped, and braces are escaped with commands
  (``\\textbraceleft``), never ``\\{``: BibTeX counts ``\\{`` as an open brace, so one
  lone brace in a title would unbalance the whole entry.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}",
    "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
}

# Combining marks with an accent command in pdflatex's default (OT1) encoding.
_ACCENTS = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
    "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0327": "c",
    "\u0323": "d", "\u0331": "b",
}

_LETTERS = {
    "ß": r"\ss", "æ": r"\ae", "Æ": r"\AE", "œ": r"\oe", "Œ": r"\OE", "ø": r"\o", "Ø": r"\O",
    "å": r"\aa", "Å": r"\AA", "ł": r"\l", "Ł": r"\L", "ı": r"\i", "ȷ": r"\j",
}

_SYMBOLS = {
    "–": "--", "—": "---", "‐": "-", "‑": "-", "−": "-", "‘": "`", "’": "'", "‚": ",",
    "“": "``", "”": "''", "„": ",,", "«": "<<", "»": ">>", "…": r"\ldots{}", "•": r"\textbullet{}",
    "\u00a0": "~", "\u2009": r"\,", "\u202f": r"\,", "§": r"\S{}", "¶": r"\P{}", "©": r"\copyright{}",
    "†": r"\dag{}", "‡": r"\ddag{}", "£": r"\pounds{}", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th",
    "ð": "d", "ĸ": "k",
}

_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi "
          "rho sigma tau upsilon phi chi psi omega").split()
# Math-mode commands pdflatex knows with no package, by Unicode character.
_MATH_CHARS = {
    **{chr(0x3B1 + i): "\\" + name for i, name in enumerate(_GREEK) if name != "omicron"},
    "ο": "o", "ς": r"\varsigma", "ϵ": r"\epsilon", "ε": r"\varepsilon", "ϑ": r"\vartheta",
    "ϕ": r"\phi", "φ": r"\varphi", "ϱ": r"\varrho", "ϖ": r"\varpi",
    **{chr(0x391 + i): ("\\" + name.capitalize() if name.capitalize() in
                        "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
                        else "\\mathrm{" + chr(0x391 + i) + "}")
       for i, name in enumerate(_GREEK) if i != 17},
    "×": r"\times", "÷": r"\div", "±": r"\pm", "∓": r"\mp", "·": r"\cdot", "∙": r"\cdot",
    "≤": r"\leq", "≥": r"\geq", "≠": r"\neq", "≈": r"\approx", "∼": r"\sim", "≃": r"\simeq",
    "≅": r"\cong", "≡": r"\equiv", "∝": r"\propto", "∈": r"\in", "∉": r"\notin", "∋": r"\ni",
    "⊂": r"\subset", "⊆": r"\subseteq", "⊃": r"\supset", "⊇": r"\supseteq", "∪": r"\cup",
    "∩": r"\cap", "∖": r"\setminus", "∞": r"\infty", "∂": r"\partial", "∇": r"\nabla",
    "∑": r"\sum", "∏": r"\prod", "∫": r"\int", "√": r"\surd", "→": r"\rightarrow",
    "←": r"\leftarrow", "↔": r"\leftrightarrow", "⇒": r"\Rightarrow", "⇐": r"\Leftarrow",
    "⇔": r"\Leftrightarrow", "↦": r"\mapsto", "↑": r"\uparrow", "↓": r"\downarrow",
    "∀": r"\forall", "∃": r"\exists", "¬": r"\neg", "∧": r"\wedge", "∨": r"\vee",
    "⊕": r"\oplus", "⊗": r"\otimes", "⊙": r"\odot", "∘": r"\circ", "⋆": r"\star", "∗": r"\ast",
    "ℓ": r"\ell", "ℏ": r"\hbar", "∅": r"\emptyset", "⊤": r"\top", "⊥": r"\perp", "°": r"^\circ",
    "′": r"\prime", "″": r"\prime\prime", "⟨": r"\langle", "⟩": r"\rangle", "∣": r"\mid",
    "∥": r"\parallel", "≪": r"\ll", "≫": r"\gg", "µ": r"\mu", "²": "^2", "³": "^3", "¹": "^1",
    "½": r"\frac12", "¼": r"\frac14", "¾": r"\frac34", "ℝ": r"\mathbf{R}", "ℕ": r"\mathbf{N}",
    "ℤ": r"\mathbf{Z}", "ℚ": r"\mathbf{Q}", "ℂ": r"\mathbf{C}", "ℒ": r"\mathcal{L}",
}

# Commands allowed inside math, with how many brace arguments each takes.
_MATH_COMMANDS: dict[str, int] = {
    **{name.strip("\\"): 0 for name in _MATH_CHARS.values() if re.fullmatch(r"\\[A-Za-z]+", name)},
    **dict.fromkeys(_GREEK + ["Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon",
                              "Phi", "Psi", "Omega", "varepsilon", "vartheta", "varphi", "varrho",
                              "varsigma", "varpi"], 0),
    **dict.fromkeys("""sum prod coprod int oint log ln lg exp sin cos tan cot sec csc sinh cosh tanh
        arcsin arccos arctan lim liminf limsup max min sup inf arg det dim ker deg gcd hom Pr le ge
        ne leq geq neq to gets lim cdots ldots dots vdots ddots colon mid vert Vert lvert rvert
        lbrace rbrace backslash prime star dagger ddagger aleph wp Re Im angle triangle
        bigcup bigcap bigoplus bigotimes bigvee bigwedge left right big Big bigg Bigg bigl bigr
        Bigl Bigr biggl biggr quad qquad lfloor rfloor lceil rceil langle rangle cdot times div pm
        mp circ bullet ast oplus ominus otimes oslash odot wedge vee cap cup uplus sqcup sqcap
        setminus wr diamond bigtriangleup bigtriangledown triangleleft triangleright lhd rhd
        unlhd unrhd leftarrow rightarrow Leftarrow Rightarrow leftrightarrow Leftrightarrow
        longrightarrow longleftarrow Longrightarrow Longleftarrow longmapsto mapsto hookrightarrow
        uparrow downarrow updownarrow Uparrow Downarrow nearrow searrow swarrow nwarrow sim simeq
        asymp approx cong equiv propto models perp parallel prec succ preceq succeq ll gg subset
        supset subseteq supseteq sqsubseteq sqsupseteq in ni notin vdash dashv smile frown bowtie
        infty nabla partial forall exists neg lnot emptyset top bot ell hbar imath jmath flat
        natural sharp surd clubsuit diamondsuit heartsuit spadesuit displaystyle textstyle
        scriptstyle limits nolimits not""".split(), 0),
    **dict.fromkeys("""mathrm mathbf mathit mathsf mathtt mathcal mathnormal hat check breve acute
        grave tilde bar vec dot ddot widehat widetilde overline underline overbrace underbrace
        mbox textrm textbf textit textsf texttt boldsymbol""".split(), 1),
    "frac": 2, "binom": 2, "sqrt": 1, "stackrel": 2, "overset": 2, "underset": 2,
}
# Commands from packages, rewritten to what plain LaTeX has.
_MATH_REWRITES = {"text": "mbox", "mathbb": "mathbf", "operatorname": "mathrm",
                  "boldsymbol": "mathbf", "bm": "mathbf", "mathscr": "mathcal",
                  "mathfrak": "mathbf", "tfrac": "frac", "dfrac": "frac", "varepsilon": "varepsilon",
                  "lVert": "Vert", "rVert": "Vert", "coloneqq": "colon=", "leqslant": "leq",
                  "geqslant": "geq", "mathds": "mathbf", "emph": "textit", "textsc": "textrm"}
_MATH_SAFE = re.compile(r"[A-Za-z0-9 +\-*/=<>()\[\]|,.;:!'?@\"`~]")
_SPACING = {",", ";", "!", ":", " ", "{", "}", "|", "%", "#", "&", "_", "$"}  # \\, \\{ ...

# $...$ whose dollars hug their content (so "$5 and $10" is not math), or \( ... \).
_MATH = re.compile(r"\$\$(?=\S)(.+?)(?<=\S)\$\$|\$(?=[^\s$])([^$]+?)(?<=\S)\$|\\\((.+?)\\\)", re.S)


class _NotMath(ValueError):
    pass


def _math_tokens(source: str) -> list[str]:
    tokens, i = [], 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", source[i:], re.S)
            if match is None:
                raise _NotMath("a lone backslash")
            tokens.append(match.group())
            i += len(match.group())
            continue
        tokens.append(char)
        i += 1
    return tokens


def _translate_math(source: str) -> str:
    """The math ``source`` as pdflatex-safe math, or ``_NotMath`` when it is not sure to be."""
    out: list[str] = []
    # Per brace level: the scripts (^ _) the current atom already has, and open \left-s.
    scripts: list[set[str]] = [set()]
    lefts = [0]
    awaiting = False  # the next atom is the argument of ^ or _, not a new base
    tokens = _math_tokens(source)

    def atom() -> None:
        nonlocal awaiting
        if not awaiting:
            scripts[-1] = set()
        awaiting = False

    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token.startswith("\\") and token[1:].isalpha():
            name = _MATH_REWRITES.get(token[1:], token[1:])
            if name == "colon=":
                atom()
                out.append(r"\mathrel{:}=")
                continue
            if name not in _MATH_COMMANDS:
                raise _NotMath(token)
            if name in ("left", "right"):
                if not following or following in ("{", "}", "^", "_", "\\"):
                    raise _NotMath("a \\left or \\right without a delimiter")
                lefts[-1] += 1 if name == "left" else -1
                if lefts[-1] < 0:
                    raise _NotMath("\\right before \\left")
            arguments = _MATH_COMMANDS[name]
            if arguments and following != "{" and not (name == "sqrt" and following == "["):
                raise _NotMath(f"{token} without its argument in braces")
            atom()
            out.append("\\" + name + (" " if following[:1].isalpha() else ""))
        elif token.startswith("\\"):
            if token[1:] not in _SPACING:
                raise _NotMath(token)
            out.append(token)
        elif token in "^_":
            if awaiting or token in scripts[-1] or following in ("", "}", "^", "_"):
                raise _NotMath("a misplaced ^ or _")
            scripts[-1].add(token)
            awaiting = True
            out.append(token)
        elif token == "{":
            atom()
            scripts.append(set())
            lefts.append(0)
            out.append(token)
        elif token == "}":
            if len(scripts) == 1 or lefts.pop():
                raise _NotMath("unbalanced braces or \\left")
            scripts.pop()
            out.append(token)
        elif token in _MATH_CHARS:
            atom()
            out.append(_MATH_CHARS[token] + " ")
        elif token == " " or token in "\n\t\r":
            out.append(" ")
        elif _MATH_SAFE.fullmatch(token):
            atom()
            out.append(token)
        else:
            raise _NotMath(repr(token))
    if len(scripts) != 1 or lefts[0] or awaiting:
        raise _NotMath("unbalanced")
    return "".join(out).strip()


def _text_char(char: str) -> str:
    if char in _TEXT_ESCAPES:
        return _TEXT_ESCAPES[char]
    if char.isascii():
        return char
    if char in _SYMBOLS:
        return _SYMBOLS[char]
    if char in _LETTERS:
        return "{" + _LETTERS[char] + "}"
    if char in _MATH_CHARS:
        return "{$" + _MATH_CHARS[char] + "$}"
    base, *marks = unicodedata.normalize("NFD", char)
    if base.isascii() and base.isalpha() and marks:
        letter = r"\i" if base == "i" and marks else (r"\j" if base == "j" else base)
        accented = letter
        for mark in marks:
            if mark in _ACCENTS:
                command = "\\" + _ACCENTS[mark]
                accented = f"{command}{{{accented}}}" if command[1:].isalpha() else f"{command}{accented}"
        return "{" + accented + "}" if accented != letter else base
    folded = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    return "".join(_TEXT_ESCAPES.get(c, c) for c in folded) or "?"


def _text(text: str) -> str:
    return "".join(_text_char(c) for c in text)


def to_latex(text: str) -> str:
    """``text`` (one line; whitespace runs become one space) as LaTeX for a BibTeX field."""
    text = unicodedata.normalize("NFC", " ".join(_CONTROL.sub(" ", text).split()))
    out, position = [], 0
    for match in _MATH.finditer(text):
        out.append(_text(text[position:match.start()]))
        source = next(group for group in match.groups() if group is not None)
        try:
            out.append("$" + _translate_math(source) + "$")
        except _NotMath:
            out.append(_text(match.group()))
        position = match.end()
    out.append(_text(text[position:]))
    return "".join(out)
