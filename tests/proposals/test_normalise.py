"""Affiliations and names normalised for comparison (conflict detection, PRODUCT §5.1)."""

import pytest

from proposals.review.normalise import normalise_affiliation, normalise_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Forschungszentrum Jülich", "forschungszentrum julich"),
        ("forschungszentrum julich.", "forschungszentrum julich"),
        ("FORSCHUNGSZENTRUM JÜLICH", "forschungszentrum julich"),
        ("Forschungszentrum Jülich GmbH", "forschungszentrum julich"),
        ("forschungszentrum julich gmbh", "forschungszentrum julich"),
        ("Forschungszentrum Juelich, GmbH", "forschungszentrum julich"),
        ("  Forschungszentrum   Jülich\t", "forschungszentrum julich"),
        ("Technische Universität München", "technische universitat munchen"),
        ("TECHNISCHE UNIVERSITAET MUENCHEN", "technische universitat munchen"),
        (
            "Max-Planck-Institut für Intelligente Systeme",
            "max planck institut fur intelligente systeme",
        ),
        (
            "Max Planck Institut fuer intelligente Systeme",
            "max planck institut fur intelligente systeme",
        ),
        ("Deutsches Elektronen-Synchrotron DESY e.V.", "deutsches elektronen synchrotron desy"),
        (
            "École Polytechnique Fédérale de Lausanne (EPFL)",
            "ecole polytechnique federale de lausanne epfl",
        ),
        ("King's College London", "kings college london"),
        ("Queen Mary University of London", "queen mary university of london"),
        ("Københavns Universitet", "kobenhavns universitet"),
        ("Universität Straßburg", "universitat strassburg"),
        ("NVIDIA Inc.", "nvidia"),
        ("", ""),
        ("  ,. ", ""),
    ],
)
def test_normalise_affiliation(text, expected):
    assert normalise_affiliation(text) == expected


def test_affiliations_that_differ_only_in_case_accents_and_punctuation_are_equal():
    assert normalise_affiliation("Forschungszentrum Jülich") == normalise_affiliation(
        "forschungszentrum julich."
    )


def test_different_institutions_stay_different():
    assert normalise_affiliation("Universität Bonn") != normalise_affiliation("Universität Köln")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. José  O'Neil", "dr jose oneil"),
        ("RITA REVIEWER – works with our competitor", "rita reviewer works with our competitor"),
        ("Müller-Lüdenscheidt, Jürgen", "muller ludenscheidt jurgen"),
        ("", ""),
    ],
)
def test_normalise_text(text, expected):
    assert normalise_text(text) == expected


def test_normalise_text_keeps_written_out_umlauts_and_legal_forms():
    assert normalise_text("Mueller GmbH") == "mueller gmbh"
