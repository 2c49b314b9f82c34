"""Pages whose parts htmx swaps in: the part alone for htmx, the whole page otherwise."""

from django.utils.cache import patch_vary_headers


class FragmentForHtmxMixin:
    """Serve `fragment_template_name` to htmx requests and the full page to everyone else, so
    every URL also works without JavaScript; caches keep the two answers apart."""

    fragment_template_name: str

    @property
    def is_htmx(self) -> bool:
        return bool(self.request.headers.get("HX-Request"))

    def get_template_names(self) -> list[str]:
        return [self.fragment_template_name] if self.is_htmx else super().get_template_names()

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response
