"""The strategy, TrainingArguments and concepts pages and their JSON twins: each ``/api/`` answer
is the matching CLI command's ``--json`` (run in-process), bad input is a one-line 422, and the
state-changing posts are guarded like the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tuneproof.cli import app as cli
from tuneproof.web import create_app

TOKEN = "learn-token"
GUARD = {"Origin": "http://127.0.0.1", "X-Tuneproof-Token": TOKEN}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    c = TestClient(
        create_app(tmp_path_factory.mktemp("ws"), token=TOKEN), base_url="http://127.0.0.1"
    )
    c.get("/")  # the token cookie
    return c


def run_cli(*args: str) -> dict:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output  # lint exits 1 on an error finding
    return json.loads(result.output)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"model": "llama-2-7b", "train_rows": 20000, "gpu_memory_gib": 24}, "lora"),
        ({"model": "minilm-l6", "train_rows": 50}, "prompting"),
        (
            {
                "model": "bert-base-uncased",
                "train_rows": 8000,
                "shift": "high",
                "time_budget_hours": 5,
            },
            "progressive",
        ),
        (
            {"model": "minilm-l6", "train_rows": 9000, "changes_often": True, "deploy": "edge"},
            "prompting",
        ),
    ],
)
def test_strategy_api_is_the_cli_json(client: TestClient, body: dict, kind: str) -> None:
    r = client.post("/api/strategy", json=body, headers=GUARD)
    assert r.status_code == 200, r.text
    api = r.json()
    command = api.pop("command")
    adr, config = api.pop("adr"), api.pop("config")
    assert command[0] == "tuneproof" and command[-1] == "--json"
    assert api == run_cli(*command[1:])  # every number, branch and rejected option
    assert api["tree"]["recommendation"] == kind
    assert "## Decision tree" in adr and "## Decision\n" in adr
    assert (config is None) == (kind == "prompting")


def test_strategy_page_walks_to_lora_and_to_prompting(client: TestClient) -> None:
    lora = client.get(
        "/strategy", params={"model": "llama-2-7b", "train_rows": 20000, "gpu_memory_gib": 24}
    )
    assert lora.status_code == 200 and 'data-kind="lora"' in lora.text
    assert 'id="starter-config"' in lora.text and "kind: lora" in lora.text
    few = client.get("/strategy", params={"model": "minilm-l6", "train_rows": 50})
    assert 'data-kind="prompting"' in few.text and 'id="no-config"' in few.text
    assert client.get("/strategy").status_code == 200  # the form alone
    bad = client.get("/strategy", params={"model": "gpt-17", "train_rows": 5})
    assert bad.status_code == 422 and 'id="strategy-error"' in bad.text


def test_args_apis_are_the_cli_json(client: TestClient, tmp_path: Path) -> None:
    assert client.get("/api/args/warmup_steps").json() == run_cli(
        "args", "explain", "warmup_steps", "--json"
    )
    assert client.get("/api/args").json() == run_cli("args", "explain", "--all", "--json")
    old = client.get("/api/args/evaluation_strategy").json()
    assert old["name"] == "eval_strategy" and "evaluation_strategy" in old["note"]

    py = tmp_path / "snippet.py"
    py.write_text(
        "args = TrainingArguments(output_dir='o', evaluation_strategy='epoch', learning_rate=3e-4, seed=s)\n"
    )
    yml = tmp_path / "args.yaml"
    yml.write_text(
        "training_args:\n  evaluation_strategy: steps\n  eval_steps: 50\n  save_steps: 75\n  load_best_model_at_end: true\n"
    )
    for f in (py, yml):
        body = {"text": f.read_text(), "source": str(f), "train_rows": 1000, "strategy": "lora"}
        lint = client.post("/api/args/lint", json=body, headers=GUARD)
        assert lint.status_code == 200, lint.text
        cli_lint = run_cli(
            "args", "lint", str(f), "--json", "--train-rows", "1000", "--strategy", "lora"
        )
        assert lint.json() == cli_lint
        snip = client.post(
            "/api/args/snippet", json={"text": f.read_text(), "source": str(f)}, headers=GUARD
        )
        assert snip.json() == run_cli("args", "snippet", str(f), "--json")
    rules = {
        (x["rule"], x["key"])
        for x in client.post(
            "/api/args/lint", json={"text": yml.read_text()}, headers=GUARD
        ).json()["findings"]
    }
    assert ("removed-name", "evaluation_strategy") in rules and (
        "load-best-mismatch",
        "save_steps",
    ) in rules


@pytest.mark.parametrize(
    ("url", "body", "says"),
    [
        ("/api/args/lint", {"text": ""}, "empty"),
        ("/api/args/lint", {"text": "x" * 20_000_000}, "20,000,000 characters"),
        ("/api/args/snippet", {"text": "TrainingArguments(lr="}, "invalid Python"),
        ("/api/args/snippet", {"text": "a: [1"}, "invalid YAML"),
        ("/api/args/lint", {"text": "seed: 1", "colour": "red"}, "Extra inputs"),
        ("/api/args/lint", {"text": "seed: 1", "strategy": "magic"}, "strategy"),
        ("/api/strategy", {"model": "gpt-17"}, "model"),
        ("/api/strategy", {"train_rows": 0}, "train_rows"),
        ("/api/strategy", {"shift": "huge"}, "shift"),
    ],
)
def test_bad_input_is_a_short_422(client: TestClient, url: str, body: dict, says: str) -> None:
    r = client.post(url, json=body, headers=GUARD)
    assert r.status_code == 422, r.text[:300]
    assert says in r.text and len(r.content) < 2000  # the 20 MB paste is not echoed back


def test_unknown_argument_is_422_with_a_suggestion(client: TestClient) -> None:
    r = client.get("/api/args/learning_rat")
    assert r.status_code == 422 and "learning_rate" in r.json()["detail"]


def test_posts_need_the_token(client: TestClient) -> None:
    for url in ("/api/args/lint", "/api/args/snippet", "/api/strategy"):
        assert client.post(url, json={"text": "seed: 1"}).status_code == 403
        assert (
            client.post(
                url, json={"text": "seed: 1"}, headers={"Origin": "http://evil.example"}
            ).status_code
            == 403
        )
    assert (
        client.post(
            "/args", data={"text": "seed: 1"}, headers={"Origin": "http://127.0.0.1"}
        ).status_code
        == 403
    )


def test_args_page_lints_and_escapes(client: TestClient) -> None:
    r = client.get("/args")
    assert r.status_code == 200 and 'id="arg-learning_rate"' in r.text
    assert client.get("/args", params={"q": "warmup"}).text.count('<tr id="arg-') == sum(
        "warmup" in (h["name"] + h["help"]).lower() for h in client.get("/api/args").json()
    )
    text = "TrainingArguments(output_dir='<script>x</script>', evaluation_strategy='epoch')"
    page = client.post(
        "/args", data={"text": text, "_token": TOKEN}, headers={"Origin": "http://127.0.0.1"}
    )
    assert page.status_code == 200
    assert "<script>x</script>" not in page.text and "&lt;script&gt;x&lt;/script&gt;" in page.text
    assert "eval_strategy=&#39;epoch&#39;" in page.text
    empty = client.post(
        "/args", data={"text": " ", "_token": TOKEN}, headers={"Origin": "http://127.0.0.1"}
    )
    assert empty.status_code == 422 and 'id="lint-error"' in empty.text


def test_concepts_content_and_page(client: TestClient) -> None:
    c = client.get("/api/concepts").json()
    assert len(c["teams"]) == 5
    assert sum(len(t["concepts"]) for t in c["teams"]) == 20
    assert all(len(t["quiz"]) == 2 for t in c["teams"])
    links = {k["link"].split("?")[0].split("#")[0] for t in c["teams"] for k in t["concepts"]}
    assert {"/strategy", "/args", "/lora", "/tokens", "/evalplan", "/concepts"} <= links
    page = client.get("/concepts")
    assert page.status_code == 200 and page.text.count('data-learn="concepts"') == 20
    assert page.text.count("data-learn-quiz=") == 10
    steps = client.get("/concepts", params={"rows": 10000, "batch": 16, "accumulation": 2})
    assert '<b id="steps-per-epoch">313</b>' in steps.text
    assert client.get("/concepts", params={"rows": 0}).status_code == 422


def test_home_has_the_learning_path(client: TestClient) -> None:
    home = client.get("/").text
    for link in (
        "/strategy",
        "/args",
        "/evalplan",
        "/tokens",
        "/evidence",
        "/competition/",
        "/lora",
        "/concepts",
    ):
        assert f'href="{link}"' in home, link
    assert 'id="path-count"' in home and "/static/learn.js" in home


def test_concepts_file_is_checked(tmp_path: Path) -> None:
    import yaml
    from pydantic import ValidationError

    from tuneproof.web.learn_concepts import CONTENT, load_concepts

    raw = yaml.safe_load(CONTENT.read_text(encoding="utf-8"))
    raw["teams"][0]["quiz"][0]["answer"] = 7
    bad = tmp_path / "c.yaml"
    bad.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ValidationError, match="answer 7"):
        load_concepts.__wrapped__(bad)


def test_strategy_adr_and_config_are_what_the_cli_writes(
    client: TestClient, tmp_path: Path
) -> None:
    body = {"model": "bert-base-uncased", "train_rows": 8000, "shift": "low"}
    api = client.post("/api/strategy", json=body, headers=GUARD).json()
    assert api["tree"]["recommendation"] == "freeze"
    args = [a for a in api["command"][1:] if a != "--json"]
    out, cfg = tmp_path / "run", tmp_path / "starter.yaml"
    result = CliRunner().invoke(cli, [*args, "-o", str(out), "--emit-config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert (out / "plan.md").read_text(encoding="utf-8") == api["adr"]
    assert cfg.read_text(encoding="utf-8") == api["config"]
    assert "kind: freeze" in api["config"]
