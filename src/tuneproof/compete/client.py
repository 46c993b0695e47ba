"""The participant's side: predict the test file with a run's model, submit, verify a final.

``submit`` accepts a ready CSV or a run directory (its model predicts ``test.csv`` downloaded
from the server, then the CSV is sent). ``verify`` re-trains a final's run from its recorded
config and checks that the new model's predictions equal the submitted ones.
"""

from __future__ import annotations

import csv
import io as _io
import tempfile
from pathlib import Path
from typing import Any

from tuneproof.errors import UserError


def predictions_csv(run_dir: Path, test_rows: list[dict[str, str]]) -> bytes:
    """A submission (``id,label``) from a run's model over the test rows."""
    from tuneproof.train.predict import load_run_model, predict_texts

    loaded = load_run_model(run_dir)
    preds = predict_texts(loaded, [r["text"] for r in test_rows])
    buf = _io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "label"])
    for row, p in zip(test_rows, preds, strict=True):
        w.writerow([row["id"], p["label"]])
    return buf.getvalue().encode("utf-8")


def read_test(text: str) -> list[dict[str, str]]:
    rows = list(csv.DictReader(_io.StringIO(text)))
    if not rows or set(rows[0]) != {"id", "text"}:
        raise UserError("test.csv: expected the columns id,text")
    return rows


def submit(
    source: Path,
    server: str,
    token: str,
    *,
    manifest: bool = False,
    idempotency_key: str | None = None,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """POST a submission; a run directory is first turned into predictions of ``test.csv``."""
    import httpx

    base = server.rstrip("/") + "/api/competition"
    headers = {"Authorization": f"Bearer {token}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    with httpx.Client(timeout=timeout) as http:
        if source.is_dir():
            test = http.get(f"{base}/test.csv")
            _raise_for(test, "GET test.csv")
            data = predictions_csv(source, read_test(test.text))
            man_path = source / "manifest.json"
        elif source.is_file():
            data = source.read_bytes()
            man_path = source.parent / "manifest.json"
        else:
            raise UserError(f"{source}: no such file or run directory")
        files: dict[str, Any] = {"file": ("submission.csv", data, "text/csv")}
        if manifest:
            if not man_path.is_file():
                raise UserError(f"{man_path}: not found; --manifest needs the run's manifest.json")
            files["manifest"] = ("manifest.json", man_path.read_bytes(), "application/json")
        resp = http.post(f"{base}/submissions", files=files, headers=headers)
    _raise_for(resp, "submission")
    return dict(resp.json())


def _raise_for(resp: Any, what: str) -> None:
    if resp.status_code < 400:
        return
    try:
        body = resp.json()
    except ValueError:
        body = {"detail": resp.text[:200]}
    errors = body.get("errors") or []
    shown = "; ".join(f"line {e['line']}: {e['message']}" for e in errors[:5])
    retry = resp.headers.get("Retry-After")
    extra = f" (retry after {retry} s)" if retry else ""
    raise UserError(
        f"{what}: HTTP {resp.status_code}: {body.get('detail')}{extra}"
        + (f" — {shown}" if shown else "")
    )


def verify(comp_root: Path, submission_id: int, run_dir: Path) -> tuple[bool, float]:
    """Re-train ``run_dir``'s recorded config in a temp folder, predict the test file and compare
    with the stored submission: (reproduced, share of identical labels)."""
    from tuneproof import rundir
    from tuneproof.compete import service
    from tuneproof.train import run

    comp = service.open_competition(comp_root)
    stored, _manifest = service.stored_predictions(comp, submission_id)
    config = rundir.read_config(run_dir)
    test = read_test((comp_root / "test.csv").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="tuneproof-verify-") as tmp:
        result = run(config, Path(tmp) / "run")
        data = predictions_csv(result.output_dir, test)
    again = {r["id"]: r["label"] for r in csv.DictReader(_io.StringIO(data.decode("utf-8")))}
    same = sum(again.get(i) == lab for i, lab in stored.items()) / max(len(stored), 1)
    ok = same == 1.0
    service.mark_reproduced(comp, submission_id, ok)
    return ok, same
