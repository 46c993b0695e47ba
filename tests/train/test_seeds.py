"""`train --seeds`: one config trained once per seed, each seed a run, the spread in metrics.json."""

from __future__ import annotations

import statistics

import pytest
from scipy import stats as sps
from typer.testing import CliRunner

from tuneproof import rundir
from tuneproof.cli import app
from tuneproof.config import parse_config
from tuneproof.errors import UserError
from tuneproof.train import parse_seeds, run, run_seeds
from tuneproof.train.seeds import seed_stat


def test_parse_seeds_names_the_bad_value():
    assert parse_seeds("42, 43,44") == [42, 43, 44]
    with pytest.raises(UserError, match="'x' is not an integer"):
        parse_seeds("42,x")
    with pytest.raises(UserError, match="seed 42 is given twice"):
        parse_seeds("42,42")


def test_seed_stat_matches_scipy():
    values = [0.81, 0.78, 0.86]
    st = seed_stat(values)
    assert st.mean == pytest.approx(statistics.mean(values))
    assert st.std == pytest.approx(statistics.stdev(values))  # sample sd (n - 1)
    lo, hi = sps.t.interval(0.95, 2, loc=st.mean, scale=sps.sem(values))
    assert st.interval == pytest.approx([lo, hi])
    one = seed_stat([0.8])
    assert one.std is None and one.interval is None


@pytest.fixture(scope="module")
def seeded(tiny_bert_dir, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A 3-seed run (tracked in a throw-away MLflow store), trained once for this module."""
    from tests.conftest import tiny_run_config, toy_rows, write_csv

    tmp = tmp_path_factory.mktemp("seeds")
    data = {
        "train": write_csv(tmp / "train.csv", toy_rows(96, seed=1, prefix="tr")),
        "validation": write_csv(tmp / "validation.csv", toy_rows(32, seed=2, prefix="va")),
        "test": write_csv(tmp / "test.csv", toy_rows(32, seed=3, prefix="te")),
    }
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    raw = tiny_run_config(tiny_bert_dir, data, max_steps=8, eval_steps=4, save_steps=4)
    raw["tracking"] = {"enabled": True, "uri": uri, "experiment": "seeds"}
    out = tmp / "run"
    result = run_seeds(parse_config(raw), out, [42, 43, 44], train=run)
    return out, uri, result


def test_three_seeds_give_three_runs_and_their_spread(seeded):  # type: ignore[no-untyped-def]
    out, uri, result = seeded
    m = rundir.read(out, rundir.Metrics)
    assert m.seeds is not None and [r.seed for r in m.seeds.runs] == [42, 43, 44]
    assert [r.path for r in m.seeds.runs] == [".", "seeds/43", "seeds/44"]
    # each seed is a complete run directory trained with its own seed
    for r in m.seeds.runs[1:]:
        sub = out / r.path
        assert rundir.read(sub, rundir.Manifest).status == "complete"
        assert rundir.read_config(sub).training.seed == r.seed
        assert rundir.read(sub, rundir.Metrics).overall == r.overall
    assert m.seeds.runs[0].overall == m.overall  # the first seed is the top-level run
    accs = [r.overall.get("accuracy").value for r in m.seeds.runs]  # type: ignore[union-attr]
    assert len(set(accs)) > 1, "different seeds should give different models"
    st = m.seed_stat
    assert st is not None and st.n == 3 and st.values == accs
    assert st.mean == pytest.approx(statistics.mean(accs))
    assert st.std == pytest.approx(statistics.stdev(accs))
    assert "validation.accuracy" in m.seeds.stats
    assert rundir.read(out, rundir.Manifest).seeds == [42, 43, 44]
    assert result.metrics.seeds == m.seeds

    # one MLflow run (the top-level one), carrying the spread
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("seeds")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    assert runs[0].data.metrics["seeds.accuracy.std"] == pytest.approx(st.std)


def test_cli_seeds_prints_the_spread(tiny_bert_dir, toy_data, make_config, tmp_path):
    import yaml

    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(make_config(tiny_bert_dir, toy_data, max_steps=4)))
    res = CliRunner().invoke(app, ["train", str(path), "-o", str(tmp_path / "r"), "--seeds", "1,2"])
    assert res.exit_code == 0, res.output
    assert "across 2 seeds (1, 2): accuracy mean" in res.output
    bad = CliRunner().invoke(app, ["train", str(path), "--seeds", "1,y"])
    assert bad.exit_code == 2 and "'y' is not an integer" in bad.output


def test_compare_and_report_state_the_seed_spread(seeded, tmp_path):  # type: ignore[no-untyped-def]
    import shutil

    from tuneproof.evaluate.compare import compare_runs
    from tuneproof.report import build_report

    out, _, _ = seeded
    run_dir = tmp_path / "run"
    shutil.copytree(out, run_dir)
    m = rundir.read(run_dir, rundir.Metrics)
    st = m.seed_stat
    assert st is not None and st.std is not None
    baseline = run_dir / "seeds" / "43"  # one seed of the same config: a one-seed baseline
    b = rundir.read(baseline, rundir.Metrics).headline
    assert b is not None
    c = compare_runs(run_dir, baseline)
    assert c.seeds is not None
    assert c.seeds.delta == pytest.approx(st.mean - b.value)
    assert c.seeds.spread == pytest.approx(st.std)
    # the same config against one of its own seeds: the difference is within the seed spread
    assert abs(c.seeds.delta) < st.std and c.seeds.within_spread
    assert c.to_dict()["seeds"]["within_spread"] is True

    build_report(run_dir, baseline=baseline)
    text = (run_dir / "report.md").read_text(encoding="utf-8")
    assert f"The run was trained with 3 seeds: accuracy mean {st.mean:.4f}" in text
    assert f"seed-to-seed sd {st.std:.4f}" in text
    assert "is smaller than the seed-to-seed spread" in text
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "is smaller than the seed-to-seed spread" in html
