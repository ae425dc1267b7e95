"""The tray menu as data: `build_menu(state)` for each state a DJ meets, no tray needed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cuepoint_tray.controller import QUIT_REASON, ControllerState, LastSession
from cuepoint_tray.domain import Playlist, PlaylistFolder
from cuepoint_tray.tray.intents import Intent
from cuepoint_tray.tray.menu import MenuEntry, build_menu, default_entry, status_text
from cuepoint_tray.tray.state import LibraryView, RecentSession, TrayState

TREE = PlaylistFolder("ROOT", (), (
    PlaylistFolder("Demo", ("Demo",), (
        Playlist("Friday Warm-up", ("Demo", "Friday Warm-up"), ("1", "2", "3")),
        Playlist("Peak Time", ("Demo", "Peak Time"), ()),
    )),
    PlaylistFolder("Old", ("Old",), ()),
    Playlist("Crate Digging", ("Crate Digging",), ("4", "5")),
))
READY = TrayState(library=LibraryView(xml_set=True, tree=TREE, current_playlist="Crate Digging",
                                      current_path=("Crate Digging",)))
RUNNING = replace(READY, session=ControllerState(
    phase="running", session_id=3, playlists=("Crate Digging",), done=5, total=18))
PAUSED = replace(READY, session=replace(RUNNING.session, phase="paused", reason="paused by you"))
NO_XML = TrayState(library=LibraryView(xml_set=False))
BAD_XML = TrayState(library=LibraryView(xml_set=True, xml_error="The file is not XML (line 3)"))
LOST_PLAYLIST = replace(READY, library=replace(
    READY.library, current_playlist="Sets/Gone", current_path=None,
    playlist_error="No playlist 'Sets/Gone'"))
RECENT = (
    RecentSession(12, ("Demo/Friday Warm-up",), "paused", 1_763_000_000.0, done=12, tracks=60,
                  reason=QUIT_REASON),
    RecentSession(11, ("Crate Digging",), "completed", 1_762_990_000.0, done=18, tracks=18,
                  matched=16, unmatched=2, report_path="/reports/session-11.html"),
)
WITH_HISTORY = replace(READY, recent=RECENT)
QUITTING = replace(RUNNING, quitting=True)
ALL_STATES = [READY, RUNNING, PAUSED, NO_XML, BAD_XML, LOST_PLAYLIST, WITH_HISTORY, QUITTING]


def entry(entries: tuple[MenuEntry, ...], start: str) -> MenuEntry:
    return next(e for e in entries if e.text.startswith(start))


def texts(entries: tuple[MenuEntry, ...]) -> list[str]:
    return ["---" if e.separator else e.text for e in entries]


def test_ready_menu_top_to_bottom() -> None:
    assert texts(build_menu(READY)) == [
        "Ready · 3 playlists in your XML", "---",
        "Match “Crate Digging”", "Choose playlist", "Queue playlists…", "---",
        "Pause", "Cancel session", "---",
        "Open dashboard", "Recent sessions", "Export last report", "Settings…", "---",
        "Quit"]


def test_ready_left_click_matches_the_current_playlist() -> None:
    menu = build_menu(READY)
    default = default_entry(menu)
    assert default == entry(menu, "Match")
    assert default.intent == Intent("match", "Crate Digging") and default.enabled
    assert not entry(menu, "Pause").enabled and not entry(menu, "Cancel").enabled
    assert not entry(menu, "Recent sessions").enabled
    assert not entry(menu, "Export last report").enabled
    assert not menu[0].enabled  # the status line is only information


def test_choose_playlist_is_the_folder_tree_with_the_current_one_checked() -> None:
    tree = entry(build_menu(READY), "Choose playlist").submenu
    assert texts(tree) == ["Demo", "Old (empty folder)", "Crate Digging  (2)"]
    demo = tree[0].submenu
    assert texts(demo) == ["Friday Warm-up  (3)", "Peak Time  (empty)"]
    assert demo[0].intent == Intent("choose_playlist", "Demo/Friday Warm-up")
    assert (demo[0].checked, demo[0].radio, demo[0].enabled) == (False, True, True)
    assert not demo[1].enabled  # an empty playlist cannot be matched
    assert not tree[1].enabled
    assert (tree[2].checked, tree[2].radio) == (True, True)


def test_running_left_click_opens_the_live_dashboard() -> None:
    menu = build_menu(RUNNING)
    assert menu[0].text == "Matching “Crate Digging”: 5 of 18"
    assert default_entry(menu) == MenuEntry("Open dashboard", Intent("open_page", "live"),
                                            default=True)
    assert not entry(menu, "Match").enabled
    assert not entry(menu, "Queue playlists").enabled
    assert entry(menu, "Pause").intent == Intent("pause") and entry(menu, "Pause").enabled
    assert entry(menu, "Cancel session").enabled
    assert entry(menu, "Quit").text == "Quit (pauses the session)"


def test_paused_offers_resume() -> None:
    menu = build_menu(PAUSED)
    assert menu[0].text == "Paused at 5 of 18: paused by you"
    assert entry(menu, "Resume") == MenuEntry("Resume", Intent("resume"))
    assert not any(e.text == "Pause" for e in menu)
    assert entry(menu, "Cancel session").enabled


def test_first_run_without_xml_points_at_settings() -> None:
    menu = build_menu(NO_XML)
    assert menu[0].text == "Set up: export your Rekordbox collection as XML"
    assert default_entry(menu) == entry(menu, "Settings…")
    assert entry(menu, "Settings…").intent == Intent("open_page", "settings")
    match = entry(menu, "Match")
    assert match.text == "Match: choose a playlist first" and not match.enabled
    assert not entry(menu, "Choose playlist").enabled
    assert not entry(menu, "Queue playlists").enabled


def test_unreadable_xml_says_why_and_points_at_settings() -> None:
    menu = build_menu(BAD_XML)
    assert menu[0].text == "Rekordbox XML: The file is not XML (line 3)"
    assert default_entry(menu) == entry(menu, "Settings…")


def test_a_playlist_gone_from_the_xml_cannot_be_matched() -> None:
    menu = build_menu(LOST_PLAYLIST)
    assert not entry(menu, "Match").enabled
    assert default_entry(menu) == entry(menu, "Open dashboard")
    tree = entry(menu, "Choose playlist").submenu
    assert not any(e.checked for e in (*tree, *tree[0].submenu))


def test_recent_sessions_open_their_page() -> None:
    recent = entry(build_menu(WITH_HISTORY), "Recent sessions").submenu
    assert [e.intent for e in recent if not e.separator] == [
        Intent("open_page", "session/12"), Intent("open_page", "session/11"),
        Intent("open_page", "history")]
    assert recent[0].text.startswith("Friday Warm-up · paused at 12/60 · ")
    assert recent[1].text.startswith("Crate Digging · 16/18 matched · ")


def test_a_session_paused_by_quitting_can_be_resumed_from_the_menu() -> None:
    menu = build_menu(WITH_HISTORY)
    resume = entry(menu, "Resume “")
    assert resume.text == "Resume “Friday Warm-up” (12 of 60 done)"
    assert resume.intent == Intent("resume_session", 12)
    running = replace(WITH_HISTORY, session=RUNNING.session)
    assert not any(e.text.startswith("Resume “") for e in build_menu(running))


def test_export_last_report_opens_the_file_its_folder_or_the_session() -> None:
    report = entry(build_menu(WITH_HISTORY), "Export last report").submenu
    assert [e.intent for e in report] == [
        Intent("open_file", "/reports/session-11.html"),
        Intent("show_folder", "/reports/session-11.html"),
        Intent("open_page", "session/11")]
    assert report[0].text == "Open the report (HTML) of “Crate Digging”"


def test_quitting_disables_everything_that_acts() -> None:
    menu = build_menu(QUITTING)
    assert menu[0].text == "Closing… (pausing the session to resume later)"
    assert default_entry(menu) is None
    assert not entry(menu, "Quit").enabled and not entry(menu, "Pause").enabled


def test_the_last_session_sums_up_in_the_status_line() -> None:
    last = LastSession(3, "completed", tracks=18, matched=15, review=2, unmatched=1)
    state = replace(READY, session=ControllerState(last=last))
    assert status_text(state) == "Last session: 15 matched · 2 to review · 1 unmatched"
    failed = replace(READY, session=ControllerState(
        last=LastSession(3, "failed", "Beatport cannot be reached: check the connection")))
    assert status_text(failed).startswith("Last session failed: Beatport cannot be reached")
    assert len(status_text(replace(BAD_XML, library=replace(
        BAD_XML.library, xml_error="x" * 300)))) == 64


@pytest.mark.parametrize("state", ALL_STATES)
def test_at_most_one_default_and_it_is_enabled(state: TrayState) -> None:
    def walk(entries: tuple[MenuEntry, ...]) -> list[MenuEntry]:
        return [x for e in entries for x in (e, *walk(e.submenu))]

    defaults = [e for e in walk(build_menu(state)) if e.default]
    assert len(defaults) == (0 if state.quitting else 1)
    assert all(e.enabled and e.intent is not None for e in defaults)


@pytest.mark.parametrize("state", ALL_STATES)
def test_the_menu_is_a_pure_function_of_the_state(state: TrayState) -> None:
    assert build_menu(state) == build_menu(replace(state))
    hash(build_menu(state))  # plain, immutable data


def test_signed_out_the_menu_offers_to_sign_in_to_beatport_in_settings() -> None:
    signed_out = replace(READY, beatport_signed_out=True)
    menu = build_menu(signed_out)
    assert texts(menu)[9:14] == ["Open dashboard", "Recent sessions", "Export last report",
                                 "Sign in to Beatport…", "Settings…"]
    sign_in = entry(menu, "Sign in to Beatport")
    assert sign_in.intent == Intent("open_page", "settings") and sign_in.enabled
    assert default_entry(menu) == entry(menu, "Match")  # a click still matches
    assert "Sign in to Beatport…" not in texts(build_menu(READY))  # signed in


def test_choose_playlist_is_sorted_as_a_person_sorts_and_long_names_are_cut() -> None:
    long_name = "Extended Afterhours Selection For The Boat Party On Sunday Morning 2026"
    tree = PlaylistFolder("ROOT", (), (
        Playlist("set 10", ("set 10",), ("1",)),
        Playlist("Éclairs", ("Éclairs",), ("1",)),
        Playlist("Set 2", ("Set 2",), ("1",)),
        PlaylistFolder("zz Archive", ("zz Archive",), (
            Playlist(long_name, ("zz Archive", long_name), ("1", "2")),)),
        Playlist("apéro", ("apéro",), ("1",)),
        PlaylistFolder("Clubs", ("Clubs",), (Playlist("b", ("Clubs", "b"), ("1",)),)),
    ))
    state = replace(READY, library=replace(READY.library, tree=tree,
                                           current_playlist=f"zz Archive/{long_name}",
                                           current_path=("zz Archive", long_name)))
    menu = build_menu(state)
    chosen = entry(menu, "Choose playlist").submenu
    assert texts(chosen) == ["Clubs", "zz Archive", "apéro  (1)", "Éclairs  (1)", "Set 2  (1)",
                             "set 10  (1)"]
    cut = chosen[1].submenu[0]
    name = cut.text.rsplit("  (", 1)[0]
    assert name.endswith("…") and len(name) == 48 and long_name.startswith(name[:-1])
    assert cut.intent == Intent("choose_playlist", f"zz Archive/{long_name}")  # the whole path
    match = entry(menu, "Match")
    assert match.text == f"Match “{name}”"


def test_the_playlist_submenu_follows_the_chosen_playlist_and_a_new_tree() -> None:
    """The submenu is built once per tree read and chosen playlist (the tray looks every two
    seconds): choosing another, or a new read of the library, shows at once."""
    def checked(state: TrayState) -> list[str]:
        found = []
        for item in entry(build_menu(state), "Choose playlist").submenu:
            found += [e.text for e in (item.submenu or (item,)) if e.checked]
        return found

    assert checked(READY) == checked(READY) == ["Crate Digging  (2)"]
    friday = replace(READY, library=replace(READY.library, current_path=(
        "Demo", "Friday Warm-up"), current_playlist="Demo/Friday Warm-up"))
    assert checked(friday) == ["Friday Warm-up  (3)"]
    renamed = PlaylistFolder("ROOT", (), (*TREE.children[:2], Playlist(
        "Crate Digging v2", ("Crate Digging v2",), ("4", "5"))))
    reread = replace(READY, library=replace(READY.library, tree=renamed,
                                            current_path=("Crate Digging v2",)))
    assert checked(reread) == ["Crate Digging v2  (2)"]
    assert checked(READY) == ["Crate Digging  (2)"]
