import pytest

from core.text import normalize
from keywords.matching import BuiltinMatch, builtin_kind, match_builtin
from keywords.models import Action


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
    assert match_builtin(message) == BuiltinMatch(kind, keyword, "en")


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


@pytest.mark.parametrize(
    ("message", "kind", "keyword", "language"),
    [
        ("ALTO", Action.OPT_OUT, "ALTO", "es"),
        ("parar.", Action.OPT_OUT, "PARAR", "es"),
        ("Baja", Action.OPT_OUT, "BAJA", "es"),
        ("CANCELAR!", Action.OPT_OUT, "CANCELAR", "es"),
        ("ayuda", Action.HELP, "AYUDA", "es"),
        ("Volver", Action.OPT_IN, "VOLVER", "es"),
        ("ARRET", Action.OPT_OUT, "ARRET", "fr"),
        ("Arrêt", Action.OPT_OUT, "ARRÊT", "fr"),
        ("aide", Action.HELP, "AIDE", "fr"),
        ("STOP", Action.OPT_OUT, "STOP", "en"),
    ],
)
def test_language_packs_are_read_when_the_account_has_them_on(message, kind, keyword, language):
    assert match_builtin(message, ("en", "es", "fr")) == BuiltinMatch(kind, keyword, language)
    if language != "en":
        assert match_builtin(message) is None  # English only: the pack is off


def test_a_pack_keyword_is_built_in_whatever_the_account_reads():
    assert builtin_kind("alto") == Action.OPT_OUT
    assert builtin_kind("AIDE") == Action.HELP
    assert builtin_kind("alto street") is None
