"""Indian vehicle numbers: accepted spellings, canonical form, helpful refusals."""

from __future__ import annotations

import pytest

from lots.plates import InvalidPlate, display_plate, normalise_plate


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("MH12AB1234", "MH12AB1234"),
        ("KA 01 AB 1234", "KA01AB1234"),
        ("ka-01-ab-1234", "KA01AB1234"),
        ("  dl 3c ab 1234 ", "DL3CAB1234"),
        ("DL 3C AB 0001", "DL3CAB0001"),
        ("DL-03-C-AB-1", "DL3CAB0001"),
        ("DL 10C AB 1234", "DL10CAB1234"),
        ("DL 1S A 42", "DL1SA0042"),
        ("DL 2C 1234", "DL2C1234"),
        ("TN 9 C 42", "TN09C0042"),
        ("GJ01 1234", "GJ011234"),
        ("MH.14.DX.0001", "MH14DX0001"),
        ("22 BH 1234 AA", "22BH1234AA"),
        ("21bh0001c", "21BH0001C"),
        ("TG 09 EZ 3141", "TG09EZ3141"),
    ],
)
def test_normalise_when_valid_spelling_then_canonical(typed: str, canonical: str) -> None:
    assert normalise_plate(typed) == canonical


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the vehicle number"),
        ("   ", "Enter the vehicle number"),
        ("XX 01 AB 1234", "not an Indian state"),
        ("MH 12 AB 12345", "not an Indian vehicle number"),
        ("MH 123 AB 1234", "not an Indian vehicle number"),
        ("MH 12 ABCD 1234", "not an Indian vehicle number"),
        ("MH 00 AB 1234", "cannot be zero"),
        ("MH 12 AB 0000", "cannot be zero"),
        ("1234", "not an Indian vehicle number"),
        ("20 BH 1234 AA", "start in 2021"),
        ("22 BH 123 AA", "not an Indian vehicle number"),
        ("MH12AB1234; DROP TABLE", "not an Indian vehicle number"),
        ("DL 3 1234", "not a Delhi vehicle number"),
        ("DL 3C ABC 1234", "not a Delhi vehicle number"),
        ("DL 0C AB 1234", "cannot be zero"),
        ("DL 3C AB 0000", "cannot be zero"),
    ],
)
def test_normalise_when_invalid_then_explains(typed: str, message: str) -> None:
    with pytest.raises(InvalidPlate, match=message):
        normalise_plate(typed)


@pytest.mark.parametrize(
    ("canonical", "shown"),
    [
        ("MH12AB1234", "MH 12 AB 1234"),
        ("GJ011234", "GJ 01 1234"),
        ("22BH1234AA", "22 BH 1234 AA"),
        ("DL3CAB0001", "DL 3C AB 0001"),
        ("DL10CAB1234", "DL 10C AB 1234"),
        ("DL2C1234", "DL 2C 1234"),
    ],
)
def test_display_when_canonical_then_spaced(canonical: str, shown: str) -> None:
    assert display_plate(canonical) == shown


@pytest.mark.parametrize(
    "typed", ["DL 3C AB 0001", "dl3cab1", "MH 12 AB 1234", "TN 9 C 42", "22 BH 1234 AA"]
)
def test_display_when_typed_then_round_trips_to_the_plate_form(typed: str) -> None:
    """What a driver types comes back in the plate's own spaced form, and re-reads the same."""
    canonical = normalise_plate(typed)
    assert normalise_plate(display_plate(canonical)) == canonical
