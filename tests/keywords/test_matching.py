import pytest

from core.text import normalize
from keywords.matching import Action, builtin_kind, match_builtin


@pytest.mark.parametrize(
    ("message", "kind", "keyword"),
    [
        ("STOP", Action.OPT_OUT, "STOP"),
        ("Stop", Action.OPT_OUT, "STOP"),
        (" STOP ", Action.OPT_OUT, "STOP"),
        ("stop.", Action.OPT_OUT, "STOP"),
        ("STOP!!", Action.OPT_OUT, "STOP"),
        ("stop?!", Action.OPT_OUT, "STOP"),
        ('"stop"', Action.OPT_OUT, "STOP"),
        ("“Stop.”", Action.OPT_OUT, "STOP"),
        ("'STOP!'", Action.OPT_OUT, "STOP"),
        ("ＳＴＯＰ", Action.OPT_OUT, "STOP"),
        ("\tstop\n", Action.OPT_OUT, "STOP"),
        ("STOP\u200b", Action.OPT_OUT, "STOP"),
        ("\ufeffStop", Action.OPT_OUT, "STOP"),
        ("Opt-Out", Action.OPT_OUT, "OPT OUT"),
        ("opt_out", Action.OPT_OUT, "OPT OUT"),
        ("OPT  OUT", Action.OPT_OUT, "OPT OUT"),
        ("optout", Action.OPT_OUT, "OPTOUT"),
        ("stop all", Action.OPT_OUT, "STOP ALL"),
        ("Stop-All", Action.OPT_OUT, "STOP ALL"),
        ("STOPALL", Action.OPT_OUT, "STOPALL"),
        ("Unsubscribe", Action.OPT_OUT, "UNSUBSCRIBE"),
        ("cancel", Action.OPT_OUT, "CANCEL"),
        ("End.", Action.OPT_OUT, "END"),
        ("quit", Action.OPT_OUT, "QUIT"),
        ("Revoke", Action.OPT_OUT, "REVOKE"),
        ("START", Action.OPT_IN, "START"),
        ("unstop", Action.OPT_IN, "UNSTOP"),
        ("Yes!", Action.OPT_IN, "YES"),
        ("subscribe", Action.OPT_IN, "SUBSCRIBE"),
        ("help?", Action.HELP, "HELP"),
        ("Info", Action.HELP, "INFO"),
    ],
)
def test_builtin_keywords_match_after_normalisation(message, kind, keyword):
    assert match_builtin(message) == (kind, keyword)


@pytest.mark.parametrize(
    "message",
    [
        "STOP this bill now",
        "stop it",
        "yes please send the quote",
        "end of the month works",
        "stopp",
        "",
        "   ",
        "!!!",
        "stop\x00",
        "help me with my bill",
        "information",
    ],
)
def test_other_messages_are_not_keywords(message):
    assert match_builtin(message) is None


def test_normalisation_rules():
    assert normalize("  “Opt-Out!!” ") == "opt out"
    assert normalize("JOIN__NOW") == "join now"
    assert normalize("Café") == "café"
    assert normalize("ﬁx") == "fix"


def test_custom_keywords_use_the_same_rule():
    assert normalize("remind-me!") == normalize("REMIND ME")
    assert normalize(" Remind   me. ") == normalize("remind_me")
    assert normalize("remind me tomorrow") != normalize("REMIND ME")
    assert builtin_kind("opt-out") == Action.OPT_OUT
    assert builtin_kind("JOIN") is None
