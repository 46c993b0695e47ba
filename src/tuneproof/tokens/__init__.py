"""How tokenizers treat languages and scripts: metrics, side-by-side splits, a stress suite.

Library entry points (the CLI ``tuneproof tokens`` is a thin face over them):

- :func:`load_tokenizer` (built-in names, HF names/paths, tiktoken encodings, SentencePiece files)
- :func:`compare_tokenizers` → :class:`Comparison` (metrics per tokenizer × language)
- :func:`show` → one :class:`Shown` per tokenizer
- :func:`stress` → :class:`StressReport`
- :func:`token_stats` → per-text :class:`TextStats` (used by ``eval`` and ``check``)
- :func:`dominant_script`, :func:`scripts_in` (Unicode script detection)

Nothing here imports torch or transformers at module level.
"""

from tuneproof.text.scripts import dominant_script, script_of, scripts_in
from tuneproof.tokens.analysis import GroupStats, TextStats, token_stats
from tuneproof.tokens.base import Encoded, Tokenizer
from tuneproof.tokens.builtins import BUILTIN_TOKENIZERS, load_tokenizer
from tuneproof.tokens.compare import Comparison, Shown, compare_tokenizers, show
from tuneproof.tokens.corpus import CorpusText, load_texts, parallel_corpus
from tuneproof.tokens.stress import STRESS_CASES, StressReport, stress

__all__ = [
    "BUILTIN_TOKENIZERS",
    "STRESS_CASES",
    "Comparison",
    "CorpusText",
    "Encoded",
    "GroupStats",
    "Shown",
    "StressReport",
    "TextStats",
    "Tokenizer",
    "compare_tokenizers",
    "dominant_script",
    "load_texts",
    "load_tokenizer",
    "parallel_corpus",
    "script_of",
    "scripts_in",
    "show",
    "stress",
    "token_stats",
]
