// Swagger UI over Paydesk's OpenAPI schema (a file, not inline, so a strict CSP can apply).
window.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: element.dataset.schemaUrl,
    domNode: element,
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
