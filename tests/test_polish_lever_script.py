"""benchmarks/polish_lever.py: every stored restart polished, judged and selected again."""

import json

import numpy as np
import pytest

from deepsymreg import symbolic
from deepsymreg.benchmark import make_data
from tests.scripts import load_script

ROW = {"index": 0, "expr": "x**2 + 0.5*x", "vars": ["x"], "run_seed": 3, "restarts": [
    # a look-alike term with a small coefficient: refitted to 0 and dropped
    {"seed": 3, "expression": "0.9*x**2 + 0.5*x + 0.1*sin(x)"},
    # a structure miss the polish cannot mend (no x term to refit)
    {"seed": 4, "expression": "1.2*x**2"},
]}


def test_data_are_run_benchmarks_draws():
    lever = load_script("benchmarks/polish_lever.py")
    symbols, (x, y), (xt, yt) = lever.law_data(ROW)
    truth, _ = symbolic.parse(ROW["expr"], ["x"])
    rng = np.random.default_rng(3)  # run_benchmark: training points, then selection points
    np.testing.assert_array_equal(x, make_data(truth, symbols, (-1, 1), 256, 0.0, rng)[0])
    np.testing.assert_array_equal(xt, make_data(truth, symbols, (-2, 2), 1024, 0.0, rng)[0])


def test_polish_mends_a_near_miss_but_not_a_structure_miss(tmp_path, capsys):
    lever = load_script("benchmarks/polish_lever.py")
    out = lever.polish_row(ROW)
    assert out["success_rate"] == 0.0 and not out["selected_right"]
    assert out["polished_success_rate"] == 0.5 and out["polished_selected_right"]
    assert not symbolic.parse(out["polished"][0], ["x"])[0].has(symbolic.sympy.sin)
    source = tmp_path / "unseen.json"
    source.write_text(json.dumps({"laws": [ROW]}))
    assert lever.main([str(source), "--json", str(tmp_path / "out.json")]) == 0
    assert "0.000 -> 0.500; selected right 0 -> 1" in capsys.readouterr().out
    assert json.loads((tmp_path / "out.json").read_text())["laws"][0]["polished_selected_right"]


def test_refine_mends_an_inner_number_the_polish_cannot():
    lever = load_script("benchmarks/polish_lever.py")
    row = {"index": 0, "expr": "exp(1.3*x)", "vars": ["x"], "run_seed": 0,
           "restarts": [{"seed": 0, "expression": "1.02*exp(1.26*x)"}]}
    assert lever.polish_row(row)["polished_success_rate"] == 0.0  # outer coefficient only
    out = lever.polish_row(row, refine=True)
    assert out["polished_success_rate"] == 1.0 and out["polished_selected_right"]


def test_refined_offers_the_variables_and_reads_raw_equations_when_asked(tmp_path, capsys):
    lever = load_script("benchmarks/polish_lever.py")
    # The law's exponential with its rate off and no linear term: the refined read-out
    # (polish_refined: x offered as a term, every number refitted) mends it.
    row = {"index": 0, "expr": "exp(1.3*x) - 0.6*x", "vars": ["x"], "run_seed": 0,
           "restarts": [{"seed": 0, "expression": "1.2*x**2", "raw_expression": "1.02*exp(1.2*x)"}]}
    assert lever.polish_row(row, refine=True, from_raw=True)["polished_success_rate"] == 0.0
    out = lever.polish_row(row, refine="variables", from_raw=True)
    assert out["success_rate"] == 0.0 and out["polished_success_rate"] == 1.0
    assert lever.polish_row(row, refine="variables")["polished_success_rate"] == 0.0  # 1.2*x**2
    assert lever.polish_row(row, refine="variables", max_numbers=0, from_raw=True)[
        "polished_success_rate"] == 0.0  # no equation is short enough to refit
    source = tmp_path / "unseen.json"
    source.write_text(json.dumps({"laws": [row]}))
    assert lever.main([str(source), "--refined", "--from-raw"]) == 0
    assert "0.000 -> 1.000" in capsys.readouterr().out


def test_portfolio_takes_the_first_restarts_of_each_run(tmp_path, capsys):
    portfolio = load_script("benchmarks/portfolio_lever.py")
    law = {"index": 0, "expr": "x**2", "vars": ["x"], "run_seed": 0, "polish": True}
    right, wrong = {"expression": "x**2"}, {"expression": "0.5*x**2"}
    first = {**law, "restarts": [wrong, wrong, right, right]}  # right only past `each`
    second = {**law, "restarts": [right, wrong, wrong, wrong]}
    paths = []
    for name, row in (("a.json", first), ("b.json", second)):
        (tmp_path / name).write_text(json.dumps({"laws": [row]}))
        paths.append(str(tmp_path / name))
    assert portfolio.main([*paths, "--each", "1", "--json", str(tmp_path / "out.json")]) == 0
    out = json.loads((tmp_path / "out.json").read_text())["laws"][0]
    assert out["first"] == [0.0, False] and out["second"] == [0.5, True]
    assert out["portfolio"] == [0.5, True]  # wrong (first's 1st) + right (second's 1st)
    assert "portfolio: mean rate 0.500, selected right 1/1" in capsys.readouterr().out
    unpolished = {**law, "polish": False, "restarts": [right]}
    (tmp_path / "c.json").write_text(json.dumps({"laws": [unpolished]}))
    with pytest.raises(ValueError, match="not polished"):
        portfolio.main([paths[0], str(tmp_path / "c.json")])


def test_swap_mends_a_look_alike_term(tmp_path, capsys):
    lever = load_script("benchmarks/polish_lever.py")
    # The sine's Taylor series imitates the cube on [-1, 1]; refits cannot mend it, a swap can.
    row = {"index": 0, "expr": "-0.7*x**3 + 0.5", "vars": ["x"], "run_seed": 0,
           "restarts": [{"seed": 0, "expression": "-4.5*x + 4.54*sin(0.316*pi*x) + 0.5"}]}
    assert lever.polish_row(row, refine=True, prune=True)["polished_success_rate"] == 0.0
    out = lever.polish_row(row, swap=True)
    assert out["polished_success_rate"] == 1.0 and out["polished_selected_right"]
    source = tmp_path / "unseen.json"
    source.write_text(json.dumps({"laws": [row]}))
    assert lever.main([str(source), "--swap"]) == 0
    assert "0.000 -> 1.000" in capsys.readouterr().out


def test_readout_reads_the_raw_equations_as_run_benchmark_does():
    lever = load_script("benchmarks/polish_lever.py")
    row = {**ROW, "restarts": [
        {"seed": 3, "expression": "1.2*x**2", "raw_expression": "0.9*x**2 + 0.5*x + 0.1*sin(x)"},
        {"seed": 4, "expression": "1.2*x**2", "raw_expression": "1.2*x**2"},
    ]}
    out = lever.polish_row(row, readout=True, workers=1)
    assert out["success_rate"] == 0.0 and not out["selected_right"]  # the stored equations
    # The read-out of the raw ones: the look-alike mended, and 1.2*x**2 too (the variables
    # are offered as terms).
    assert out["polished_success_rate"] == 1.0 and out["polished_selected_right"]
