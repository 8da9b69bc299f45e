// Submit the OAuth form_post response at once; the button stays for browsers without JavaScript.
document.getElementById("form-post-response").submit();
