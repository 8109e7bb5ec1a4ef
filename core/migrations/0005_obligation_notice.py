"""Reminders already sent for obligations: one row per site, obligation and day.

A frozen copy of ``core.obligations.ObligationNotice``; never import the
kernel's models here.
"""
import datetime

from peewee import *


def utcnow():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class _Site(Model):
    class Meta:
        table_name = "core_site"


class ObligationNotice(Model):
    site = ForeignKeyField(_Site, on_delete="CASCADE")
    key = CharField(max_length=40)
    day = DateField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "core_obligation_notice"
        legacy_table_names = False
        indexes = ((("site", "key", "day"), True),)


def up(migrator, db):
    db.bind([_Site, ObligationNotice])
    db.create_tables([ObligationNotice])
