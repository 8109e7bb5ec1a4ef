"""Grassroots' regulation plugins: one package per regulation family.

Each package registers through the ``grassroots.plugins`` entry-point group in
``setup.cfg`` and talks to the kernel and to other plugins only through hooks
(``docs/plugins.md``). Nothing here imports a plugin: this file only makes
``plugins`` the package that holds them.
"""
