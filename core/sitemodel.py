"""The base of every domain table: a row belongs to exactly one site.

Reading through :meth:`SiteModel.for_site` or :meth:`SiteModel.get_in_site` is
the default path, so leaking another site's row takes deliberate effort.
Saving refuses a row whose foreign keys point into another site (SECURITY Z3,
Odoo's ``check_company`` lesson), in the model rather than in each view.
"""

from __future__ import annotations

import peewee as pw

from core.models import Site, User
from core.storage import BaseModel, utcnow


class NotFound(LookupError):
    """No such row in this site. The web layer answers 404, never 403 (SECURITY Z2)."""


class CrossSiteReference(ValueError):
    """A row of one site pointed at a row of another site (SECURITY Z3)."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


class SiteModel(BaseModel):
    """A site-scoped row with an optimistic-locking ``version``."""

    site = pw.ForeignKeyField(Site, index=True, on_delete="RESTRICT")
    version = pw.IntegerField(default=1)
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")

    #: fields never taken from client input (SECURITY Z4)
    READ_ONLY_FIELDS = ("id", "site", "site_id", "version", "created_at", "updated_at",
                        "created_by", "created_by_id")

    @classmethod
    def for_site(cls, site: Site | int, *fields) -> pw.ModelSelect:
        """Select this model's rows of one site only."""
        return cls.select(*fields).where(cls.site == site)

    @classmethod
    def get_in_site(cls, site: Site | int, pk) -> SiteModel:
        """Return the row ``pk`` of ``site``.

        :raises NotFound: when the row does not exist or belongs to another site.
        """
        try:
            return cls.for_site(site).where(cls._meta.primary_key == pk).get()
        except (cls.DoesNotExist, ValueError, TypeError):
            raise NotFound(f"{cls.__name__} {pk!r}") from None

    def check_references(self) -> None:
        """Refuse foreign keys to another site's rows.

        :raises CrossSiteReference: naming the first offending field.
        """
        site_id = self.__data__.get("site")
        for name, field in self._meta.fields.items():
            if not isinstance(field, pw.ForeignKeyField) or name == "site":
                continue
            target = field.rel_model
            if not issubclass(target, SiteModel):
                continue
            value = self.__data__.get(name)
            if value is None:
                continue
            owner = (target.select(target.site).where(target._meta.primary_key == value)
                     .scalar())
            if owner != site_id:
                raise CrossSiteReference(name)

    def save(self, *args, **kwargs):
        self.check_references()
        return super().save(*args, **kwargs)
