"""Pairwise connectedness and influence indices (Gabauer 2021) on a table computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.models.fevd import pairwise
from monitor.models.spillover import SpilloverTable

# Rows receive, columns transmit, rows sum to 100.
TABLE = np.array(
    [
        [70.0, 20.0, 10.0],
        [5.0, 80.0, 15.0],
        [30.0, 0.0, 70.0],
    ]
)


def test_hand_computed_three_variable_case() -> None:
    table = SpilloverTable.from_matrix(TABLE, ("a", "b", "c"), horizon=10, lags=1)
    # PCI_ij = 200 (C_ij + C_ji) / (C_ii + C_ij + C_ji + C_jj)
    # a-b: 200 * (20 + 5) / (70 + 20 + 5 + 80) = 5000 / 175
    # a-c: 200 * (10 + 30) / (70 + 10 + 30 + 70) = 8000 / 180
    # b-c: 200 * (15 + 0) / (80 + 15 + 0 + 70) = 3000 / 165
    expected_pci = np.array(
        [
            [100.0, 5000 / 175, 8000 / 180],
            [5000 / 175, 100.0, 3000 / 165],
            [8000 / 180, 3000 / 165, 100.0],
        ]
    )
    # INFLUENCE_ij = 100 |C_ij - C_ji| / (C_ij + C_ji)
    # a-b: 100 * 15 / 25 = 60; a-c: 100 * 20 / 40 = 50; b-c: 100 * 15 / 15 = 100 (one-way)
    expected_influence = np.array([[0.0, 60.0, 50.0], [60.0, 0.0, 100.0], [50.0, 100.0, 0.0]])
    # Exact fractions of small integers: only the last bit can differ.
    np.testing.assert_allclose(table.pci, expected_pci, rtol=1e-14, atol=0)
    np.testing.assert_allclose(table.influence, expected_influence, rtol=1e-14, atol=1e-13)
    frame = table.pairwise_frame()
    assert frame[["i", "j"]].values.tolist() == [["a", "b"], ["a", "c"], ["b", "c"]]
    assert frame["PCI"].tolist() == pytest.approx([5000 / 175, 8000 / 180, 3000 / 165], rel=1e-14)
    assert frame["INFLUENCE"].tolist() == pytest.approx([60.0, 50.0, 100.0], rel=1e-14)
    # NPDC gives the direction the influence index leaves out: b gives c 15 and takes 0 (b transmits).
    assert frame["NPDC"].tolist() == pytest.approx([5.0 - 20.0, 30.0 - 10.0, 0.0 - 15.0])
    payload = table.payload()
    assert payload["pci"]["c"]["a"] == pytest.approx(8000 / 180, rel=1e-14)
    assert payload["influence"]["b"]["c"] == pytest.approx(100.0)


def test_batched_over_leading_axes_and_zero_exchange() -> None:
    stacked = np.stack([TABLE, TABLE[::-1, ::-1], np.eye(3) * 100])
    pci, influence = pairwise(stacked)
    np.testing.assert_allclose(pci[1], pairwise(TABLE[::-1, ::-1])[0])
    # A pair that exchanges nothing has PCI 0 and influence 0 (not 0/0).
    assert pci[2, 0, 1] == 0.0
    assert influence[2, 0, 1] == 0.0
