from django.http import HttpResponse


def access_list(request):
    return HttpResponse("")
