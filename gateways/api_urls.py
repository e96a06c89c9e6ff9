app_name = "gateway_api"
urlpatterns: list = []
