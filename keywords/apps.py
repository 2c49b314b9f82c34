from django.apps import AppConfig


class KeywordsConfig(AppConfig):
    name = "keywords"

    def ready(self) -> None:
        from core.config_cache import watch_configuration
        from keywords.models import KeywordResponder

        watch_configuration(KeywordResponder)
