from django.apps import AppConfig


class KeywordsConfig(AppConfig):
    name = "keywords"
