from django.http import HttpResponse


def gateway_list(request):
    return HttpResponse("")
