from tests.helpers import client_for


def test_japanese_is_the_default_even_for_an_english_browser(operator_a):
    response = client_for(operator_a).get("/gateways/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="ja">' in response.content.decode()
    assert "VPNゲートウェイ" in response.content.decode()


def test_the_header_switch_chooses_english(operator_a):
    client = client_for(operator_a)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/access/"})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get("/gateways/").content.decode()
