"""Pagination for tables that may hold millions of rows."""

from django.core.paginator import EmptyPage
from django_tables2.paginators import LazyPaginator


class BoundedLazyPaginator(LazyPaginator):
    """Pages without a COUNT(*), within bounds a request cannot push.

    `per_page` comes from the query string in django-tables2, so it is capped; a page number
    so large that its OFFSET overflows the database's integer is treated as past the end (the
    table then shows its first page).
    """

    MAX_PER_PAGE = 100
    MAX_PAGE = 1_000_000

    def __init__(self, object_list, per_page, **kwargs):
        super().__init__(object_list, max(1, min(int(per_page), self.MAX_PER_PAGE)), **kwargs)

    def validate_number(self, number):
        number = super().validate_number(number)
        if number > self.MAX_PAGE:
            raise EmptyPage("That page number is too large.")
        return number


def page_of(object_list, number: str | None, per_page: int = 50):
    """One page of a list that may be long, read without counting it; page 1 for a page
    number that is not one."""
    paginator = BoundedLazyPaginator(object_list, per_page)
    try:
        return paginator.page(int(number or 1))
    except (ValueError, EmptyPage):
        return paginator.page(1)
