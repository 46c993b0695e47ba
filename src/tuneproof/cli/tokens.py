"""`tokens list|compare|show|stress`: how tokenizers treat languages and scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tuneproof.cli._common import console, err_console
from tuneproof.errors import UserError

if TYPE_CHECKING:
    from tuneproof.tokens.base import Tokenizer

tokens_app = typer.Typer(
    help="See how tokenizers treat languages and scripts: fertility, parity, UNK, round trips. "
    "Examples: `tuneproof tokens list`, `tuneproof tokens compare -t minilm-l6 -t xlmr`, "
    '`tuneproof tokens show -t xlmr "Die Straßenbahn ist geschlossen."`',
    no_args_is_help=True,
)

TokenizerOpt = Annotated[
    list[str],
    typer.Option(
        "--tokenizer",
        "-t",
        help="built-in name (see `tuneproof tokens list`), HF name or folder, tiktoken encoding, "
        "tokenizer.json or SentencePiece .model (repeatable)",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def _load_all(specs: list[str]) -> list[Tokenizer]:
    from tuneproof.tokens import load_tokenizer

    if not specs:
        raise UserError("no tokenizer given; pass --tokenizer NAME (see `tuneproof tokens list`)")
    loaded = []
    for spec in dict.fromkeys(specs):
        with err_console.status(f"loading tokenizer {spec}"):
            loaded.append(load_tokenizer(spec))
    return loaded


def _print_json(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


@tokens_app.command("list")
def list_tokenizers(as_json: JsonOpt = False) -> None:
    """List the built-in offline tokenizers.

    Any HF tokenizer name or folder, tiktoken encoding name, tokenizer.json or SentencePiece
    .model file works too. Example: `tuneproof tokens list`
    """
    from tuneproof.tokens import BUILTIN_TOKENIZERS

    if as_json:
        _print_json(
            [
                {"name": b.name, "description": b.description, "source": b.source}
                for b in BUILTIN_TOKENIZERS.values()
            ]
        )
        return
    table = Table(
        "name", "tokenizer", "files from", title="built-in tokenizers", title_justify="left"
    )
    for b in BUILTIN_TOKENIZERS.values():
        table.add_row(b.name, b.description, b.source)
    console.print(table)


@tokens_app.command()
def compare(
    tokenizer: TokenizerOpt,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="texts: .txt (one per line), .csv/.tsv/.jsonl/.json/.parquet "
            "[default: the shipped parallel corpus, 50 sentences × 13 languages]",
        ),
    ] = None,
    text_column: Annotated[str, typer.Option(help="column with the texts")] = "text",
    lang_column: Annotated[
        str | None,
        typer.Option(
            help="column with the language [default: 'lang' if present, else group by "
            "detected script]"
        ),
    ] = None,
    id_column: Annotated[
        str, typer.Option(help="column linking translations of a sentence (for parity)")
    ] = "id",
    reference: Annotated[str, typer.Option(help="language parity is relative to")] = "en",
    max_length: Annotated[
        int, typer.Option(min=1, help="count texts longer than this (special tokens included)")
    ] = 128,
    html: Annotated[
        Path | None, typer.Option("--html", help="also write an HTML report here")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Metrics per tokenizer × language: fertility, parity, continued words, UNK, byte fallback.

    Example: `tuneproof tokens compare -t minilm-l6 -t xlmr -t gpt2 --html tokens.html`
    """
    from tuneproof.tokens import compare_tokenizers, load_texts, parallel_corpus

    if file is None:
        texts = parallel_corpus()
        from tuneproof.tokens.view import PARALLEL_SOURCE

        source = PARALLEL_SOURCE
    else:
        texts = load_texts(
            file,
            text_column=text_column,
            lang_column=lang_column or "lang",
            id_column=id_column,
            lang_required=lang_column is not None,
        )
        source = str(file)
    toks = _load_all(tokenizer)
    result = compare_tokenizers(
        toks, texts, max_length=max_length, reference=reference, source=source
    )
    if html is not None:
        from tuneproof.io import write_text
        from tuneproof.tokens.render import comparison_html

        write_text(html, comparison_html(result))
        err_console.print(f"wrote [bold]{html}[/]")
    if as_json:
        _print_json(result.to_dict())
        return
    label = "language" if result.group_by == "language" else "script"
    table = Table(
        label,
        "script",
        "tokenizer",
        "tokens",
        "fertility",
        "parity",
        "contin.",
        "UNK",
        "bytes",
        "chars/tok",
        f">{max_length}",
        title=f"{escape(source)}: {len(texts)} texts; fertility per word (per character for "
        "unsegmented scripts)",
        title_justify="left",
    )
    for g in result.groups:
        for i, name in enumerate(result.tokenizers):
            r = result.get(name, g)
            unk = f"[bold red]{r.unk_rate:.1%}[/]" if r.unk_rate else "0"
            table.add_row(
                escape(g) if i == 0 else "",
                r.script if i == 0 else "",
                escape(name),
                str(r.n_tokens),
                f"{r.fertility:.2f}",
                "–" if r.parity is None else f"{r.parity:.2f}",
                f"{r.continued_share:.0%}",
                unk,
                f"{r.byte_rate:.0%}",
                f"{r.chars_per_token:.2f}",
                f"{r.over_length_share:.0%}",
                end_section=i == len(result.tokenizers) - 1,
            )
    console.print(table)


@tokens_app.command("show")
def show_text(
    text: Annotated[str, typer.Argument(help="the text to tokenize")],
    tokenizer: TokenizerOpt,
    as_json: JsonOpt = False,
) -> None:
    """Show how each tokenizer splits a text (special tokens excluded).

    Example: `tuneproof tokens show -t minilm-l6 -t xlmr "Die Straßenbahn ist geschlossen."`
    """
    from tuneproof.tokens import show
    from tuneproof.tokens.render import rich_text
    from tuneproof.tokens.view import check_text, token_views

    if not text.strip():
        raise UserError("text: empty; pass the text to tokenize in quotes")
    check_text(text)
    toks = _load_all(tokenizer)
    if as_json:  # each token with its character span and UNK / byte-fallback flags
        _print_json([v.to_dict() for v in token_views(toks, text)])
        return
    shown = show(toks, text)
    for tok, s in zip(toks, shown, strict=True):
        head = f"[bold]{escape(s.tokenizer)}[/] [dim]({tok.kind})[/]"
        console.print(f"{head} · {len(s.encoded)} tokens")
        console.print(rich_text(s))
        console.print(" | ".join(s.encoded.tokens), style="dim", markup=False, highlight=False)


@tokens_app.command("stress")
def stress_cmd(
    tokenizer: TokenizerOpt,
    max_fertility: Annotated[
        float, typer.Option(min=0.0, help="fail natural text above this many tokens per word")
    ] = 3.0,
    max_char_fertility: Annotated[
        float, typer.Option(min=0.0, help="... and per character for unsegmented scripts")
    ] = 1.5,
    strict: Annotated[bool, typer.Option(help="exit with code 1 when any case fails")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="also write an HTML report here")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the built-in stress suite: scripts, RTL, emoji, NFC/NFD, zero-width, URLs, code, ...

    A case fails when decode(encode(text)) loses characters, when UNK appears, or when fertility
    exceeds the threshold. Example: `tuneproof tokens stress -t minilm-l6 -t xlmr`
    """
    from tuneproof.tokens import stress

    toks = _load_all(tokenizer)
    reports = [
        stress(t, max_fertility=max_fertility, max_char_fertility=max_char_fertility) for t in toks
    ]
    if html is not None:
        from tuneproof.io import write_text
        from tuneproof.tokens.render import stress_html

        write_text(html, stress_html(reports))
        err_console.print(f"wrote [bold]{html}[/]")
    if as_json:
        _print_json([r.to_dict() for r in reports])
    else:
        for r in reports:
            table = Table(
                "case",
                "result",
                "tokens",
                "fertility",
                "problems",
                title=f"{escape(r.tokenizer)} ({r.kind}; round trip {r.round_trip}): "
                f"{len(r.results) - len(r.failed)} passed, {len(r.failed)} failed",
                title_justify="left",
            )
            for c in r.results:
                per = "/char" if c.unsegmented else "/word"
                table.add_row(
                    c.name,
                    "[green]ok[/]" if c.ok else "[bold red]FAIL[/]",
                    str(c.n_tokens),
                    f"{c.fertility:.2f}{per}",
                    escape("; ".join(c.problems)),
                )
            console.print(table)
    if strict and any(r.failed for r in reports):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `tokens` command group to the main app."""
    app.add_typer(tokens_app, name="tokens")
