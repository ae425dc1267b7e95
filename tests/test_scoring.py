"""Scoring and the decision rule, on hand-made pairs (pure functions, no network)."""

from dataclasses import replace

import pytest

from cuepoint_tray.domain import BeatportTrack, Candidate, RekordboxTrack
from cuepoint_tray.matching.matcher import decide, same_recording
from cuepoint_tray.matching.profile import beatport_profile, rekordbox_profile
from cuepoint_tray.matching.scoring import score

ORIGINAL = BeatportTrack(
    id=1, title="Black Tears", mix_name="Original Mix", artists=("DJ Meyer",), bpm=127,
    key_name="Eb Minor", camelot="2A", label="Home Audio", release="Black Tears",
    release_date="2016-04-12", length_ms=396_000)
EXTENDED = replace(ORIGINAL, id=2, mix_name="Extended Mix", length_ms=441_000)
RADIO = replace(ORIGINAL, id=3, mix_name="Radio Edit", length_ms=190_000)
REMIX = replace(ORIGINAL, id=4, mix_name="Paul Sato Remix", remixers=("Paul Sato",),
                length_ms=402_000)
DUB = replace(ORIGINAL, id=5, mix_name="Dub Mix", length_ms=396_500)
RERELEASE = replace(ORIGINAL, id=6, label="Together Records",
                    release="Together Records Sampler 2018", release_date="2018-06-01")

DJ = RekordboxTrack(track_id="1", name="Black Tears", artist="DJ Meyer", total_time=396,
                    average_bpm=126.99, tonality="Ebm", year=2016)


def evaluate(dj: RekordboxTrack, store: BeatportTrack) -> tuple[float, dict, tuple]:
    total, components, vetoes = score(rekordbox_profile(dj), beatport_profile(store))
    return total, {c.name: c.similarity for c in components}, vetoes


def ranked(dj: RekordboxTrack, *stores: BeatportTrack) -> list[Candidate]:
    candidates = []
    for store in stores:
        total, components, vetoes = score(rekordbox_profile(dj), beatport_profile(store))
        candidates.append(Candidate(store, total, components, vetoes))
    return sorted(candidates, key=lambda c: (c.acceptable, c.score), reverse=True)


def test_the_same_track_scores_near_one_and_is_strong():
    total, parts, vetoes = evaluate(replace(DJ, name="06 - Black Tears (Original Mix)"), ORIGINAL)
    assert vetoes == ()
    assert total > 0.95
    assert parts["title"] == parts["artists"] == parts["version"] == parts["duration"] == 1.0
    assert decide(ranked(DJ, ORIGINAL, EXTENDED, RADIO)).confidence == "strong"


def test_components_are_used_only_when_both_sides_have_the_data():
    bare = RekordboxTrack(track_id="1", name="Black Tears", artist="DJ Meyer")
    _, parts, _ = evaluate(bare, ORIGINAL)
    assert set(parts) == {"title", "artists", "version"}


@pytest.mark.parametrize(("name", "total_time", "expected"), [
    ("Black Tears", 396, ORIGINAL),  # nothing said about the mix: the original's length
    ("Black Tears (Extended Mix)", 441, EXTENDED),
    ("Black Tears (Ext. Mix)", 441, EXTENDED),
    ("Black Tears (Radio Edit)", 190, RADIO),
    ("Black Tears (Paul Sato Remix)", 402, REMIX),
])
def test_the_right_version_wins(name, total_time, expected):
    dj = replace(DJ, name=name, total_time=total_time)
    decision = decide(ranked(dj, ORIGINAL, EXTENDED, RADIO, REMIX, DUB))
    assert decision.best is not None and decision.best.track.id == expected.id
    assert decision.confidence in ("strong", "medium")


@pytest.mark.parametrize(("dj", "store", "reason"), [
    (replace(DJ, name="Black Tears (Kai Mohr Remix)"), REMIX, "remix by paul sato, not by kai"),
    (replace(DJ, name="Black Tears (Kai Mohr Remix)"), ORIGINAL, "not the remix by kai mohr"),
    (replace(DJ, name="Black Tears (Original Mix)"), REMIX, "a remix by paul sato"),
    (replace(DJ, name="Black Tears"), DUB, "dub, not original"),
    (replace(DJ, artist="Vera Meyer"), ORIGINAL, "other artists"),
    (replace(DJ, artist="Omar Meyer"), ORIGINAL, "other artists"),  # a shared surname
    (replace(DJ, name="Black Tears Forever"), ORIGINAL, "another title"),
])
def test_another_work_or_version_is_vetoed(dj, store, reason):
    _, _, vetoes = evaluate(dj, store)
    assert any(reason in veto for veto in vetoes), vetoes


def test_a_vetoed_best_of_a_bad_lot_is_not_accepted():
    dj = replace(DJ, name="Black Tears (Kai Mohr Remix)", total_time=402)
    decision = decide(ranked(dj, ORIGINAL, EXTENDED, REMIX))
    assert decision.confidence == "none" and decision.best is None


@pytest.mark.parametrize("artist", ["DJ Meyr", "Dj  MEYER", "D.J. Meyer", "The DJ Meyer"])
def test_small_artist_typos_still_match(artist):
    _, parts, vetoes = evaluate(replace(DJ, artist=artist), ORIGINAL)
    assert vetoes == () and parts["artists"] >= 0.85


def test_file_name_style_title_with_empty_artist():
    dj = replace(DJ, artist="", name="DJ Meyer - Black Tears (Original Mix)")
    total, parts, vetoes = evaluate(dj, ORIGINAL)
    assert vetoes == () and parts["artists"] == 1.0 and total > 0.95


def test_half_time_bpm_counts_as_the_same_tempo():
    _, parts, _ = evaluate(replace(DJ, average_bpm=174.0), replace(ORIGINAL, bpm=87))
    assert parts["bpm"] == 1.0


def test_label_and_year_pick_the_re_release_the_dj_has():
    dj = replace(DJ, label="Together Records", year=2018, album="Together Records Sampler 2018")
    assert same_recording(ORIGINAL, RERELEASE)
    decision = decide(ranked(dj, ORIGINAL, RERELEASE))
    assert decision.best is not None and decision.best.track.id == RERELEASE.id
    # Re-releases of one recording do not make each other doubtful.
    assert decision.confidence == "strong"


def test_two_close_recordings_leave_the_choice_to_the_dj():
    # No duration, no mix: the original and the extended differ only in version weight.
    dj = RekordboxTrack(track_id="1", name="Black Tears (Club Mix)", artist="DJ Meyer")
    decision = decide(ranked(dj, ORIGINAL, EXTENDED))
    assert decision.confidence in ("low", "none")
