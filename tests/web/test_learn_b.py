"""The LoRA, tokenization and evaluation-plan modules (#15 items 3-5) through the TestClient: each
``/api/`` endpoint returns the numbers of the matching CLI command with ``--json``, the LoRA
counts are PEFT's on a real model, the evaluation plan the page exports is one ``tuneproof eval``
reads, and bad input is a 422 with a one-line reason, never a 500."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tuneproof.cli import app as cli
from tuneproof.web import create_app

TOKEN = "learn-b-token"
HEADERS = {"Origin": "http://127.0.0.1", "X-Tuneproof-Token": TOKEN}
HINDI = "मैं कल सुबह दिल्ली जाऊँगा।"
CHINESE = "我们明天早上九点在火车站见面，别迟到。"
runner = CliRunner()


def run_cli(*args: str) -> Any:
    result = runner.invoke(cli, list(args), catch_exceptions=False, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def client(workspace: Path) -> TestClient:
    c = TestClient(create_app(workspace, token=TOKEN), base_url="http://127.0.0.1")
    c.get("/")  # the token cookie
    return c


@pytest.fixture(scope="module")
def bare_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """No runs needed: the LoRA and token modules read no workspace."""
    ws = tmp_path_factory.mktemp("learn-b-ws")
    c = TestClient(create_app(ws, token=TOKEN), base_url="http://127.0.0.1")
    c.get("/")
    return c


def post(c: TestClient, url: str, body: dict[str, Any]) -> Any:
    r = c.post(url, json=body, headers=HEADERS)
    assert r.status_code == 200, r.text
    return r.json()


def refused(c: TestClient, url: str, **kwargs: Any) -> str:
    r = c.post(url, headers=HEADERS, **kwargs)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    return r.text


# --- LoRA ---------------------------------------------------------------------------------------


def peft_reference(config: Any, r: int, alpha: int, targets: list[str] | None) -> tuple[int, int]:
    """PEFT's get_nb_trainable_parameters on the model really built (weights allocated)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import BertModel

    torch.manual_seed(0)
    model = BertModel(config, add_pooling_layer=True)
    lora = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.05, target_modules=targets)
    return get_peft_model(model, lora).get_nb_trainable_parameters()


def test_lora_api_equals_cli_json_and_peft(bare_client: TestClient) -> None:
    from tuneproof.plan.lora import resolve_source

    body = {"model": "minilm-l6", "rank": 8, "alpha": 32, "targets": ["query", "key", "value"]}
    api = post(bare_client, "/api/lora", body)
    cli_out = run_cli(
        "lora", "-m", "minilm-l6", "-r", "8", "--alpha", "32", "--targets", "query,key,value",
        "--json",
    )  # fmt: skip
    for key, value in cli_out.items():
        assert api[key] == value, key
    config = resolve_source("minilm-l6").config
    trainable, total = peft_reference(config, 8, 32, ["query", "key", "value"])
    assert (api["trainable_params"], api["all_params"]) == (trainable, total)
    assert api["trainable_params"] == 8 * (384 + 384) * 3 * 6  # r·(in+out) per Linear, 6 layers
    assert set(api["linear_modules"]) >= {"query", "key", "value", "dense"}
    assert "r=8," in api["lora_config_python"] and "lora_alpha=32" in api["lora_config_python"]

    # the curve over ranks: the rows `tuneproof lora` prints without --rank
    curve = post(bare_client, "/api/lora", {"model": "minilm-l6", "ranks": [4, 8, 16, 32, 64]})
    assert curve["ranks"] == run_cli("lora", "-m", "minilm-l6", "--json")["ranks"]


def test_lora_uploaded_config_and_adapter_size_on_disk(
    bare_client: TestClient, tiny_bert_dir: Path, tmp_path: Path
) -> None:
    """An uploaded config.json counts as PEFT does, and adapter_bytes is the tensor payload of
    the adapter_model.safetensors PEFT writes (file size minus the 8-byte length and header)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import BertConfig, BertForSequenceClassification

    raw = json.loads((tiny_bert_dir / "config.json").read_text(encoding="utf-8"))
    body = {"config": raw, "rank": 4, "task": "sequence-classification", "bits": 32, "seq": 32}
    api = post(bare_client, "/api/lora", body)

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig.from_dict({**raw, "num_labels": 2}))
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, task_type="SEQ_CLS"))
    assert api["trainable_params"] == peft_model.get_nb_trainable_parameters()[0]
    peft_model.save_pretrained(tmp_path / "adapter")
    file = tmp_path / "adapter" / "adapter_model.safetensors"
    data = file.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    assert api["adapter_bytes"] == len(data) - 8 - header_len
    assert api["adapter_bytes"] == 4 * api["trainable_params"]  # all fp32 for a 32-bit base


def test_lora_page_and_fragment(bare_client: TestClient) -> None:
    from tuneproof.web.learn_lora import LoraIn, calculate

    expected = calculate(LoraIn(model="minilm-l6", rank=32)).estimate.trainable_params
    form = {"model": "minilm-l6", "rank": "32", "targets": ["query", "value"]}
    r = bare_client.post("/lora/result", data=form, headers=HEADERS)
    assert r.status_code == 200
    assert f'id="lora-trainable">{expected:,}<' in r.text
    assert r.text.count("<svg") == 2 and "lora_config = LoraConfig(" in r.text
    page = bare_client.get("/lora", params={"model": "minilm-l6", "rank": "32"}).text
    assert f'id="lora-trainable">{expected:,}<' in page
    for name in ("query", "key", "value", "dense"):  # the picker lists the real modules
        assert f'name="targets" value="{name}"' in page


def test_lora_bad_input_is_422(bare_client: TestClient) -> None:
    assert "not a built-in" in refused(bare_client, "/api/lora", json={"model": "no-such-model"})
    assert "greater than or equal to 1" in refused(bare_client, "/api/lora", json={"rank": 0})
    bad = {"config": {"model_type": "nope"}, "rank": 4}
    assert "model_type 'nope' is unknown" in refused(bare_client, "/api/lora", json=bad)
    text = refused(bare_client, "/api/lora", json={"targets": ["nope"], "rank": 4})
    assert "nope not in minilm-l6" in text and "query" in text
    # the page: a malformed config.json upload, and rank 0 from a hand-made form post
    files = {"config_file": ("config.json", b"{not json", "application/json")}
    text = refused(bare_client, "/lora", data={"model": "minilm-l6"}, files=files)
    assert 'id="learn-error"' in text and "config.json: not valid JSON (line 1" in text
    text = refused(bare_client, "/lora/result", data={"model": "minilm-l6", "rank": "0"})
    assert "rank: Input should be greater than or equal to 1" in text
    payload = {"model_type": "bert", "_name_or_path": "<script>alert(1)</script>"}
    files = {"config_file": ("config.json", json.dumps(payload).encode(), "application/json")}
    r = bare_client.post("/lora", data={"model": "minilm-l6"}, files=files, headers=HEADERS)
    assert r.status_code == 200 and "<script>alert(1)" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_post_endpoints_need_the_token(bare_client: TestClient) -> None:
    for url, body in (("/api/lora", {}), ("/api/tokens", {"text": "x"}), ("/api/evalplan", {})):
        assert bare_client.post(url, json=body).status_code == 403
        assert (
            bare_client.post(url, json=body, headers={"Origin": "http://evil.example"}).status_code
            == 403
        )


# --- tokens -------------------------------------------------------------------------------------


def test_tokens_api_equals_cli_json(bare_client: TestClient) -> None:
    names = ["minilm-l6", "xlmr", "mistral"]
    text = f"{HINDI} {CHINESE}"
    api = post(
        bare_client,
        "/api/tokens",
        {"text": text, "tokenizers": names, "parallel": True, "stress": True},
    )
    flags = [x for n in names for x in ("-t", n)]
    assert api["shown"] == run_cli("tokens", "show", *flags, text, "--json")
    assert api["parallel"] == run_cli("tokens", "compare", *flags, "--json")
    assert api["stress"] == run_cli("tokens", "stress", *flags, "--json")
    minilm = api["shown"][0]
    unk = [p for p in minilm["pieces"] if p["unk"]]
    assert minilm["unk"] == len(unk) > 0  # BERT's English vocabulary lacks most Han characters
    assert all(text[p["start"] : p["end"]] for p in unk)  # each UNK covers characters of the text
    mistral = api["shown"][2]
    assert mistral["byte_tokens"] == sum(p["byte"] for p in mistral["pieces"]) > 0
    assert "".join(s["text"] for s in minilm["segments"]) == text  # segments tile the text


def test_tokens_page_escapes_and_refuses(bare_client: TestClient) -> None:
    payload = "<script>document.title='pwned'</script> 我们"
    r = bare_client.post(
        "/tokens/show", data={"text": payload, "tok": ["minilm-l6"]}, headers=HEADERS
    )
    assert r.status_code == 200 and "<script>document" not in r.text
    assert ">&lt;</span>" in r.text and 'class="t unk' in r.text  # each token its own span
    assert "empty" in refused(bare_client, "/tokens/show", data={"text": "  ", "tok": ["xlmr"]})
    big = "x" * 20_000_000  # a 20 MB paste
    assert "1024KB" in refused(bare_client, "/tokens/show", data={"text": big, "tok": ["xlmr"]})
    assert "at most 20000" in refused(bare_client, "/api/tokens", json={"text": big})
    assert "at least 1 character" in refused(bare_client, "/api/tokens", json={"text": ""})
    msg = refused(
        bare_client, "/api/tokens", json={"text": "hi", "tokenizers": ["bert-base-uncased"]}
    )
    assert "not a built-in" in msg and "minilm-l6" in msg  # never the hub
    two = bare_client.post(
        "/tokens/show",
        data={"text": "Hallo\nDie Straßenbahn ist zu.", "tok": ["xlmr"]},
        headers=HEADERS,
    ).text
    assert (
        'id="batch"' in two
        and "[PAD]" in two
        and "<code>100000</code>" in two
        and "<code>111111</code>" in two
    )
    page = bare_client.get("/tokens", params={"sample": "lang:zh"}).text
    assert "premium" in page and 'id="stress"' in page and "truncated sooner" in page


# --- evaluation plan ----------------------------------------------------------------------------


def test_evalplan_api_equals_cli_json_with_coverage(client: TestClient, workspace: Path) -> None:
    from tuneproof import rundir

    test_split = rundir.read_config(workspace / "runs" / "base").data.test
    body = {
        "languages": ["en", "hi", "zh"],
        "half_width": 0.05,
        "confidence": 0.9,
        "scripts": ["Latin"],
        "failure_modes": ["language_gap", "truncation"],
        "data": ["runs/base:test"],
    }
    api = post(client, "/api/evalplan", body)
    cli_out = run_cli(
        "evalplan", "--languages", "en,hi,zh", "--width", "0.05", "--confidence", "0.9",
        "--scripts", "Latin", "--failure-modes", "language_gap,truncation",
        "--data", str(test_split), "--json",
    )  # fmt: skip
    assert api["plan"] == cli_out
    assert api["plan"]["target"]["min_examples_per_slice"] == 271  # ⌈1.645² · 0.25 / 0.05²⌉
    en = next(s for s in api["plan"]["slices"] if s["key"] == "language=en")
    assert en["current"] == 24 and en["covered"] is False  # the 24-row test split
    assert [f["name"] for f in api["plan"]["failure_modes"]] == ["language_gap", "truncation"]
    assert yaml.safe_load(api["yaml"]) == cli_out
    assert api["markdown"].startswith("# Evaluation plan: sentiment in en, hi, zh")
    msg = refused(client, "/api/evalplan", json={"languages": ["en"], "data": ["/etc/passwd"]})
    assert "not a dataset of this workspace" in msg and "runs/base:test" in msg
    assert "not an ISO 639-1" in refused(client, "/api/evalplan", json={"languages": ["xx1"]})


def test_evalplan_export_is_read_by_tuneproof_eval(
    client: TestClient, workspace: Path, tmp_path: Path
) -> None:
    params = [("submitted", "1"), ("lang", "en"), ("lang", "fr"), ("width", "0.1")]
    params += [("code_switching", "on"), ("fm", "language_gap")]
    r = client.get("/evalplan/plan.yaml", params=params)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(r.text, encoding="utf-8")
    md = client.get("/evalplan/plan.md", params=params).text
    assert "| `language=fr` | 97 |" in md

    from tuneproof.evaluate.run import evaluate_run

    result = evaluate_run(workspace / "runs" / "base", plan=plan_file, n_resamples=100)
    checks = {c.key: c for c in result.plan or []}
    assert set(checks) >= {"language=en", "language=fr", "code_switching=yes"}
    assert checks["language=fr"].min_examples == 97 and not checks["language=fr"].met


def test_evalplan_page_fragment_upload_and_errors(client: TestClient) -> None:
    page = client.get("/evalplan").text
    assert 'id="min-examples">97<' in page and "language=hi" in page
    frag = client.get("/evalplan/result", params={"submitted": "1", "lang": "de", "width": "0.05"})
    assert frag.status_code == 200 and 'id="min-examples">385<' in frag.text
    assert "code_switching=yes" not in frag.text  # unticked, one language
    csv = b"text,label\n<b>good</b> film,pos\nun film horrible,neg\n"
    files = {"dataset_file": ("mine.csv", csv, "text/csv")}
    r = client.post(
        "/evalplan", data={"submitted": "1", "lang": ["en", "fr"]}, files=files, headers=HEADERS
    )
    assert r.status_code == 200 and "uploaded mine.csv" in r.text
    empty = client.get("/evalplan/result", params={"submitted": "1"})
    assert empty.status_code == 422 and "choose at least one language" in empty.text
    bad = client.get("/evalplan/plan.yaml", params={"submitted": "1", "lang": "en", "width": "2"})
    assert bad.status_code == 422
