"""Module baseline: name, image and signer must all agree for a module to count as known."""

from __future__ import annotations

import pytest

from iisdetect.baseline import judge, load_baseline, normalise_path


def test_every_entry_cites_a_source() -> None:
    assert load_baseline() and all(m.source for m in load_baseline())


@pytest.mark.parametrize(
    ("name", "image", "signer", "status"),
    [
        ("RewriteModule", r"%SystemRoot%\system32\inetsrv\rewrite.dll", "Microsoft Corporation", "known"),
        ("UriCacheModule", r"\\?\C:\Windows\SysWOW64\inetsrv\cachuri.dll", "Microsoft Windows Publisher", "known"),
        ("kerbauth", r"D:\Apps\Microsoft\Exchange Server\V15\Bin\kerbauth.dll", "Microsoft Corporation", "known"),
        ("UriCacheModule", r"C:\Windows\Temp\cachuri.dll", "Microsoft Windows", "mismatch"),
        ("RewriteModule", r"%SystemRoot%\system32\inetsrv\rewrite.dll", "Evil Corp", "mismatch"),
        ("DefaultDocumentModule_Atomic", r"C:\Windows\System32\inetsrv\defdoc.dll", None, "lookalike"),
        ("DefaultDocumentModul", None, None, "lookalike"),
        ("UpData", r"C:\Windows\System32\system.dll", None, "unknown"),
    ],
)
def test_judge(name: str, image: str | None, signer: str | None, status: str) -> None:
    assert judge(name, image, signer).status == status


def test_normalise_path_folds_twins_and_prefix() -> None:
    assert normalise_path(r'"\\?\C:\Program Files (x86)\IIS\x.dll"') == r"c:\program files\iis\x.dll"
