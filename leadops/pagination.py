"""Pagination of every API list endpoint (REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"]).

A module of its own: DRF imports the default pagination class while rest_framework.generics is being imported, so
it cannot live beside the views.
"""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_PAGE_SIZE = 500


class ApiPagination(LimitOffsetPagination):
    """?limit= and ?offset= of every list endpoint, read strictly.

    limit: 1 to 500, 50 when absent; a larger number is read as 500, so a client asking for "everything" gets full
    pages to walk through with `next`. offset: 0 or more; past the end the page is empty. Anything else (text,
    fractions, negative numbers, zero as a limit) is refused with 400 naming the parameter, rather than quietly
    answered with the default page.
    """

    max_limit = MAX_PAGE_SIZE
    limit_query_description = f"Results per page: 1 to {MAX_PAGE_SIZE} (default 50); at most {MAX_PAGE_SIZE} are sent."
    offset_query_description = "Results to skip: 0 or more."

    def get_limit(self, request):
        limit = self._whole_number(
            request, self.limit_query_param, minimum=1, must=f"a whole number from 1 to {MAX_PAGE_SIZE}"
        )
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        offset = self._whole_number(request, self.offset_query_param, minimum=0, must="a whole number, 0 or more")
        return 0 if offset is None else offset

    @staticmethod
    def _whole_number(request, name: str, *, minimum: int, must: str) -> int | None:
        raw = request.query_params.get(name, "").strip()
        if not raw:
            return None
        if not (raw.isascii() and raw.isdigit()):
            raise ValidationError({name: [f"{name} must be {must}, got {raw!r}."]})
        # More digits than any count of rows can have: past the end as an offset, over the cap as a limit. (Python
        # would not even read a number of more than 4,300 digits.)
        value = int(raw) if len(raw) <= 18 else 10**18
        if value < minimum:
            raise ValidationError({name: [f"{name} must be {must}, got {raw!r}."]})
        return value
