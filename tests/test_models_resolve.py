"""`resolve_model`: the one place a model name becomes something `from_pretrained` can load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneproof.errors import UserError
from tuneproof.models import is_repo_id, resolve_model


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("org/model", True),
        ("bert-base-uncased", True),
        ("./no-such-folder", False),
        ("/abs/missing", False),
        ("~/models/x", False),
        ("a/b/c", False),
    ],
)
def test_repo_ids_follow_huggingface_hub(name, expected):
    assert is_repo_id(name) is expected


def test_an_existing_folder_is_returned_unchanged(tmp_path):
    assert resolve_model(str(tmp_path)) == str(tmp_path)


@pytest.mark.parametrize("name", ["./no-such-folder", "/abs/missing", "models/a/b"])
def test_a_missing_folder_is_named_as_a_folder(name):
    with pytest.raises(UserError) as err:
        resolve_model(name)
    message = str(err.value)
    assert f"'{name}': folder " in message and "does not exist" in message
    assert str(Path(name).absolute()) in message


def test_offline_uncached_hub_name_fails_with_one_line():
    with pytest.raises(UserError) as err:  # tests run with HF_HUB_OFFLINE=1 (conftest)
        resolve_model("someone/does-not-exist", what="tokenizer")
    message = str(err.value)
    assert message.startswith("tokenizer 'someone/does-not-exist': not in the local")
    assert "\n" not in message


def test_offline_cached_hub_name_passes_through(tmp_path, monkeypatch):
    """A model in the Hugging Face cache loads offline: resolve_model must not refuse it."""
    from huggingface_hub import constants

    commit = "0" * 40
    repo = tmp_path / "models--someone--cached"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "config.json").write_text("{}")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    assert resolve_model("someone/cached") == "someone/cached"
