"""The pages the README names exist: every menu path (*Section → Label*) is in the menu, every `/admin/`
address resolves, and the list of what Django's admin site holds is what is registered there."""

import re
from pathlib import Path

from django.contrib import admin
from django.urls import Resolver404, resolve

from core.context_processors import NAV

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_menu_path_the_readme_gives_is_in_the_menu():
    named = set(re.findall(r"\*([A-Z][\w ]*?) → ([\w -]+?)\*", README))
    assert named
    menu = {(section, label) for section, label, *_ in NAV}
    assert named <= menu, named - menu


def test_every_admin_address_the_readme_gives_resolves():
    addresses = set(re.findall(r"(?<![\w/])(/admin/[\w/-]*)", README))
    assert addresses
    for address in addresses:
        try:
            resolve(address)
        except Resolver404:
            raise AssertionError(f"the README names {address}, which is no page") from None


def test_the_readme_lists_what_the_django_admin_site_holds():
    [listed] = re.findall(r"Django's admin site at `/admin/`: ([^)]*)\)", README)
    names = {n.strip().lower() for n in re.split(r",| and ", listed) if n.strip()}
    registered = {str(model._meta.verbose_name_plural).lower() for model in admin.site._registry}
    assert names == registered
