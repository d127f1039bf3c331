"""Pages of this part of the app; included by migrations_app/urls.py under the migrations_app namespace."""

urlpatterns = []
