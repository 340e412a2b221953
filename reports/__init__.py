"""DATA OUT: the chart registry, the HTML report and e-mail rendering, and the exports folder."""
