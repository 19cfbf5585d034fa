"""Which site/application a web.config belongs to, from the sites' virtual directories."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from iisdetect.audit.sites import location_of, virtual_dirs
from tests.audit.test_entries import XML


def test_sites_locate_web_configs() -> None:
    vds = virtual_dirs(ET.fromstring(XML))
    assert location_of("C:\\inetpub\\wwwroot\\web.config", vds) == "Default Web Site"
    assert location_of("C:\\inetpub\\wwwroot\\app\\sub\\web.config", vds) == "Default Web Site/app/sub"
    assert location_of("D:\\Exchange\\owa\\web.config", vds) == "Default Web Site/owa"
    assert location_of("E:\\other\\web.config", vds) == ""
