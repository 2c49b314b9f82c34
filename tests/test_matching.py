import pytest

from core.text import normalize
from keywords.matching import KeywordKind, builtin_kind, match_builtin


@pytest.mark.parametrize(
    ("message", "kind", "keyword"),
    [
        ("STOP", KeywordKind.OPT_OUT, "STOP"),
        ("Stop", KeywordKind.OPT_OUT, "STOP"),
        (" STOP ", KeywordKind.OPT_OUT, "STOP"),
        ("stop.", KeywordKind.OPT_OUT, "STOP"),
        ("STOP!!", KeywordKind.OPT_OUT, "STOP"),
        ("stop?!", KeywordKind.OPT_OUT, "STOP"),
        ('"stop"', KeywordKind.OPT_OUT, "STOP"),
        ("“Stop.”", KeywordKind.OPT_OUT, "STOP"),
        ("'STOP!'", KeywordKind.OPT_OUT, "STOP"),
        ("ＳＴＯＰ", KeywordKind.OPT_OUT, "STOP"),
        ("\tstop\n", KeywordKind.OPT_OUT, "STOP"),
        ("STOP\u200b", KeywordKind.OPT_OUT, "STOP"),
        ("\ufeffStop", KeywordKind.OPT_OUT, "STOP"),
        ("Opt-Out", KeywordKind.OPT_OUT, "OPT OUT"),
        ("opt_out", KeywordKind.OPT_OUT, "OPT OUT"),
        ("OPT  OUT", KeywordKind.OPT_OUT, "OPT OUT"),
        ("optout", KeywordKind.OPT_OUT, "OPTOUT"),
        ("stop all", KeywordKind.OPT_OUT, "STOP ALL"),
        ("Stop-All", KeywordKind.OPT_OUT, "STOP ALL"),
        ("STOPALL", KeywordKind.OPT_OUT, "STOPALL"),
        ("Unsubscribe", KeywordKind.OPT_OUT, "UNSUBSCRIBE"),
        ("cancel", KeywordKind.OPT_OUT, "CANCEL"),
        ("End.", KeywordKind.OPT_OUT, "END"),
        ("quit", KeywordKind.OPT_OUT, "QUIT"),
        ("Revoke", KeywordKind.OPT_OUT, "REVOKE"),
        ("START", KeywordKind.OPT_IN, "START"),
        ("unstop", KeywordKind.OPT_IN, "UNSTOP"),
        ("Yes!", KeywordKind.OPT_IN, "YES"),
        ("subscribe", KeywordKind.OPT_IN, "SUBSCRIBE"),
        ("help?", KeywordKind.HELP, "HELP"),
        ("Info", KeywordKind.HELP, "INFO"),
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
    assert builtin_kind("opt-out") == KeywordKind.OPT_OUT
    assert builtin_kind("JOIN") is None
