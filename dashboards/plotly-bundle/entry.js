// The traces the flowsim dashboard draws, on plotly.js's core (scatter is part of it).
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/heatmap'), require('plotly.js/lib/sankey')]);
module.exports = Plotly;
