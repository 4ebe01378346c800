"""Invariants of the scoring, checked with hypothesis on random answer tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pingyi_lib as py
from pingyi_lib.scoring import counts, indices

RS = py.load_ruleset()
ITEMS = list(RS.scored_items)
UNITS = ["a", "b", "c", "d"]

answer_rows = st.lists(
    st.tuples(st.sampled_from(UNITS), *[st.integers(0, 5) for _ in ITEMS]), min_size=1, max_size=60)


def frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["unit_id", *ITEMS])
    df[ITEMS] = df[ITEMS].astype(np.int8)
    return df


def q_index(df: pd.DataFrame) -> pd.Series:
    return indices.component_index(indices.item_indices(counts.answer_counts(df, RS), RS), RS)["index"]


@given(answer_rows)
def test_indices_stay_between_0_and_100(rows):
    it = indices.item_indices(counts.answer_counts(frame(rows), RS), RS)["index"].dropna()
    q = q_index(frame(rows)).dropna()
    assert ((it >= 0) & (it <= 100 + 1e-9)).all()
    assert ((q >= 0) & (q <= 100 + 1e-9)).all()


@given(st.lists(st.floats(0, 100), min_size=4, max_size=4), st.lists(st.floats(0, 100), min_size=4, max_size=4),
       st.lists(st.floats(0, 30), min_size=4, max_size=4), st.lists(st.floats(0, 10), min_size=4, max_size=4),
       st.lists(st.booleans(), min_size=4, max_size=4))
def test_composite_follows_spec_with_caps_and_missing_onsite(o, q, deductions, bonus, drop_o):
    cases = pd.DataFrame({"unit_id": UNITS, "substantiated": True, "deduction": deductions})
    bon = pd.DataFrame({"unit_id": UNITS, "points": bonus})
    o = pd.Series(o, index=UNITS).mask(pd.Series(drop_o, index=UNITS))
    c = indices.composite(o, pd.Series(q, index=UNITS), indices.case_points(cases, UNITS, RS)["case_points"],
                          indices.bonus_points(bon, UNITS, RS)["bonus_points"], RS)
    assert (c <= 100 + RS.bonus_cap + 1e-9).all() and (c >= 0).all()
    # SPEC §4 from its constants alone: C = max(0, 20 − Σd), B = min(3, Σb); without a panel Q carries 0.3 + 0.5
    for i, u in enumerate(UNITS):
        base = 0.8 * q[i] if drop_o[i] else 0.3 * o[u] + 0.5 * q[i]
        assert c[u] == pytest.approx(base + max(0.0, 20 - deductions[i]) + min(3.0, bonus[i]))


@given(answer_rows, st.sampled_from(UNITS), st.sampled_from(ITEMS))
def test_one_more_very_satisfied_answer_never_lowers_an_index(rows, unit, item):
    df = frame(rows)
    extra = {it: 0 for it in ITEMS} | {item: 1, "unit_id": unit}
    more = pd.concat([df, frame([tuple(extra[c] for c in ["unit_id", *ITEMS])])], ignore_index=True)
    before = indices.item_indices(counts.answer_counts(df, RS), RS)["index"]
    after = indices.item_indices(counts.answer_counts(more, RS), RS)["index"]
    key = (unit, item)
    assert after[key] >= before.get(key, -1) - 1e-9 or np.isnan(before.get(key, np.nan))
    qb, qa = q_index(df), q_index(more)
    if unit in qb.index and not np.isnan(qb[unit]):
        assert qa[unit] >= qb[unit] - 1e-9


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25, deadline=None)
@given(answer_rows, st.randoms(use_true_random=False), st.booleans())
def test_shuffling_rows_or_writing_labels_never_changes_a_result(tmp_path_factory, rows, rnd, labels):
    labels_of = {0: ""} | {lv.code: lv.label for lv in RS.levels}

    def write(rows, use_labels):
        d = tmp_path_factory.mktemp("p")
        (d / "units.csv").write_text("unit_id,name,level\n" + "".join(f"{u},{u}局,district\n" for u in UNITS),
                                     encoding="utf-8")
        lines = ["response_id,unit_id,channel," + ",".join(ITEMS)]
        for i, r in enumerate(rows):
            vals = [labels_of[v] if use_labels else (str(v) if v else "") for v in r[1:]]
            lines.append(f"r{i},{r[0]},online," + ",".join(vals))
        (d / "survey.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return py.score(py.load_dataset(d)).units.set_index("unit_id").sort_index()

    cols = ["survey_index", "composite", "rank", "in_bottom", "talk", "no_excellence"]
    ref = write(rows, False)[cols]
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    pd.testing.assert_frame_equal(write(shuffled, labels)[cols], ref)
