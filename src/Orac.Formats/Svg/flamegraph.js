// Orac flame graph interactivity: zoom, search, hover details, state kept in the URL.
var fg_svg, fg_frames, fg_details, fg_unzoom, fg_searchbtn, fg_matched, fg_icbtn;
var fg_nodes = [], fg_ic = false, fg_term = null, fg_zoomed = null;
function fg_el(id) { return document.getElementById(id); }
function init(evt) {
	fg_svg = document.documentElement;
	fg_frames = fg_el("frames"); fg_details = fg_el("details").firstChild;
	fg_unzoom = fg_el("unzoom"); fg_searchbtn = fg_el("search");
	fg_matched = fg_el("matched"); fg_icbtn = fg_el("ignorecase");
	var gs = fg_frames.children;
	for (var i = 0; i < gs.length; i++) {
		// Each frame is <g|a><title/><rect/><text/></g>; direct children are much faster than queries on 100k frames.
		var g = gs[i], c = g.children, ti = c[0], r = c[1], t = c[2];
		if (!ti || ti.tagName !== "title" || !r || r.tagName !== "rect" || !t || t.tagName !== "text") {
			ti = g.querySelector("title"); r = g.querySelector("rect"); t = g.querySelector("text");
		}
		if (!r || !t || !ti) continue;
		var tip = ti.textContent, p = tip.lastIndexOf(" (");
		var cnt = p >= 0 ? parseFloat(tip.substring(p + 2).replace(/,/g, "")) : 0;
		var x = +r.getAttribute("x"), w = +r.getAttribute("width");
		g._fg = fg_nodes.length;
		fg_nodes.push({ g: g, r: r, t: t, tip: tip, name: p >= 0 ? tip.substring(0, p) : tip,
			x: x, w: w, y: +r.getAttribute("y"), fill: r.getAttribute("fill"), n: isNaN(cnt) ? 0 : cnt });
	}
	fg_frames.addEventListener("click", function (e) {
		var n = fg_find(e.target); if (n) { fg_zoom(n); fg_save(); }
	});
	fg_frames.addEventListener("mouseover", function (e) {
		var n = fg_find(e.target); if (n) fg_details.nodeValue = fg_nametype + " " + n.tip;
	});
	fg_frames.addEventListener("mouseout", function () { fg_details.nodeValue = " "; });
	fg_unzoom.addEventListener("click", function () { fg_reset(); fg_save(); });
	fg_searchbtn.addEventListener("click", function () { fg_prompt(); });
	fg_icbtn.addEventListener("click", function () { fg_toggle_ic(); });
	window.addEventListener("keydown", function (e) {
		if (e.keyCode === 114 || ((e.ctrlKey || e.metaKey) && e.keyCode === 70)) { e.preventDefault(); fg_prompt(); }
		else if ((e.ctrlKey || e.metaKey) && e.keyCode === 73) { e.preventDefault(); fg_toggle_ic(); }
	});
	fg_restore();
}
function fg_find(el) {
	while (el && el.parentNode !== fg_frames) el = el.parentNode;
	return el && el._fg !== undefined ? fg_nodes[el._fg] : null;
}
function fg_label(n, x, w) {
	var chars = Math.floor((w - 3) / (fg_fontsize * fg_fontwidth)), s = n.name;
	n.t.textContent = chars < 3 ? "" : (s.length <= chars ? s : s.substring(0, chars - 2) + "..");
	n.t.setAttribute("x", (x + 3).toFixed(2));
}
function fg_zoom(z) {
	fg_zoomed = z;
	var width = +fg_svg.getAttribute("width") - 2 * fg_xpad, scale = width / z.w, eps = 0.0001;
	fg_unzoom.classList.remove("hide");
	for (var i = 0; i < fg_nodes.length; i++) {
		var n = fg_nodes[i], g = n.g;
		var below = fg_inverted ? n.y < z.y : n.y > z.y;
		g.classList.remove("parent"); g.classList.remove("hide");
		if (below && n.x <= z.x + eps && n.x + n.w >= z.x + z.w - eps) {
			g.classList.add("parent");
			n.r.setAttribute("x", fg_xpad); n.r.setAttribute("width", width.toFixed(1));
			fg_label(n, fg_xpad, width);
		} else if (n === z || (!below && n.x >= z.x - eps && n.x + n.w <= z.x + z.w + eps)) {
			var x = fg_xpad + (n.x - z.x) * scale, w = n.w * scale;
			n.r.setAttribute("x", x.toFixed(1)); n.r.setAttribute("width", w.toFixed(1));
			fg_label(n, x, w);
		} else {
			g.classList.add("hide");
		}
	}
}
function fg_reset() {
	fg_zoomed = null;
	fg_unzoom.classList.add("hide");
	for (var i = 0; i < fg_nodes.length; i++) {
		var n = fg_nodes[i];
		n.g.classList.remove("parent"); n.g.classList.remove("hide");
		n.r.setAttribute("x", n.x.toFixed(1)); n.r.setAttribute("width", n.w.toFixed(1));
		fg_label(n, n.x, n.w);
	}
}
function fg_toggle_ic() {
	fg_ic = !fg_ic;
	if (fg_ic) fg_icbtn.classList.add("show"); else fg_icbtn.classList.remove("show");
	if (fg_term !== null) { fg_search(fg_term); fg_save(); }
}
function fg_prompt() {
	if (fg_term !== null) { fg_clear(); fg_save(); return; }
	var term = prompt("Enter a search term (regexp allowed, eg: ^ext4_)" + (fg_ic ? ", ignoring case" : "") +
		"\nPress Ctrl-i to toggle case sensitivity", "");
	if (term) { fg_search(term); fg_save(); }
}
function fg_clear() {
	fg_term = null;
	for (var i = 0; i < fg_nodes.length; i++) fg_nodes[i].r.setAttribute("fill", fg_nodes[i].fill);
	fg_searchbtn.classList.remove("show"); fg_searchbtn.firstChild.nodeValue = "Search";
	fg_matched.classList.add("hide"); fg_matched.firstChild.nodeValue = " ";
}
function fg_search(term) {
	var re;
	try { re = new RegExp(term, fg_ic ? "i" : ""); } catch (e) { return; }
	fg_term = term;
	// Matched share in counts (from the tooltips, exact even for sub-pixel frames); a match inside
	// another match (same x range, further from the root) is counted once.
	var hits = [], root = 0;
	for (var i = 0; i < fg_nodes.length; i++) {
		var n = fg_nodes[i];
		if (n.n > root) root = n.n;
		if (re.test(n.name)) { n.r.setAttribute("fill", "rgb(230,0,230)"); hits.push(n); }
		else n.r.setAttribute("fill", n.fill);
	}
	var depth = function (n) { return fg_inverted ? n.y : -n.y; };
	hits.sort(function (a, b) { return a.x - b.x || depth(a) - depth(b); });
	var covered = 0, open = [], eps = 0.05;
	for (var j = 0; j < hits.length; j++) {
		var h = hits[j];
		while (open.length && h.x >= open[open.length - 1].x + open[open.length - 1].w + eps) open.pop();
		var top = open.length ? open[open.length - 1] : null;
		if (top && depth(h) > depth(top) && h.x + h.w <= top.x + top.w + eps) continue;
		covered += h.n; open.push(h);
	}
	fg_searchbtn.classList.add("show"); fg_searchbtn.firstChild.nodeValue = "Reset Search";
	fg_matched.classList.remove("hide");
	var pct = root > 0 ? Math.min(100, 100 * covered / root) : 0;
	fg_matched.firstChild.nodeValue = "Matched: " + (pct === 100 ? "100" : pct.toFixed(1)) + "%";
}
function fg_save() {
	if (!window.history || !history.replaceState) return;
	var q = [];
	if (fg_zoomed) q.push("x=" + fg_zoomed.x, "y=" + fg_zoomed.y);
	if (fg_term !== null) q.push("s=" + encodeURIComponent(fg_term));
	if (fg_ic) q.push("i=1");
	try { history.replaceState(null, null, location.pathname + (q.length ? "?" + q.join("&") : "")); } catch (e) { }
}
function fg_restore() {
	var params = {}, q = location.search.substring(1).split("&");
	for (var i = 0; i < q.length; i++) {
		var kv = q[i].split("=");
		if (kv[0]) params[decodeURIComponent(kv[0])] = decodeURIComponent((kv[1] || "").replace(/\+/g, " "));
	}
	if (params.i) { fg_ic = true; fg_icbtn.classList.add("show"); }
	if (params.x !== undefined && params.y !== undefined) {
		var x = +params.x, y = +params.y;
		for (var j = 0; j < fg_nodes.length; j++) {
			var n = fg_nodes[j];
			if (Math.abs(n.x - x) < 0.05 && Math.abs(n.y - y) < 0.05) { fg_zoom(n); break; }
		}
	}
	if (params.s) fg_search(params.s);
}
