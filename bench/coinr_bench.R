# COINr's side of bench/bench_vs_coinr.py (measurement only; COINr 1.1.14 installed as
# ../shared/anchors/coinr/README.md says, found through R_LIBS).
#
# Two modes:
#   Rscript coinr_bench.R serve
#     reads one command a line on stdin, runs it inside this one R process and answers one
#     line on stdout: "TIME <seconds>" (wall time of the work alone, Sys.time) or
#     "ERROR <message>"; with a count k after a command, the fastest of k runs. Commands:
#       normagg <iMeta.csv> <iData.csv>  Normalise (min-max [0, 100]) + Aggregate (weighted
#                                        arithmetic mean) of a coin built once from the files
#       example                          build_example_coin(): COINr's full V1 pipeline
#                                        (new_coin, Denominate, Impute, Screen, Treat,
#                                        Normalise, Aggregate) on its ASEM data
#       ua <N>                           get_sensitivity(SA_type = "UA", N) with the four
#                                        uncertain inputs of ../shared/anchors/coinr/coinr_uncertainty.R
#       quit
#   Rscript coinr_bench.R build <iMeta.csv> <iData.csv> <out folder>
#     the whole job as one process: read both CSVs, build the coin, normalise, aggregate,
#     write the scores at every level with the index rank (results.csv) and the normalised
#     indicators (normalised.csv).
suppressMessages(library(COINr))

read_pair <- function(meta, data) {
  iMeta <- utils::read.csv(meta, check.names = FALSE, stringsAsFactors = FALSE)
  iData <- utils::read.csv(data, check.names = FALSE, stringsAsFactors = FALSE)
  iMeta <- iMeta[, intersect(names(iMeta), c("Level", "iCode", "iName", "Direction", "Weight",
                                             "Unit", "Target", "Parent", "Type"))]
  list(iMeta = iMeta, iData = iData)
}

coin_of <- function(meta, data) {
  p <- read_pair(meta, data)
  new_coin(p$iData, p$iMeta, quietly = TRUE)
}

norm_agg <- function(coin) {
  coin <- Normalise(coin, dset = "Raw", quietly = TRUE)
  Aggregate(coin, dset = "Normalised", quietly = TRUE)
}

ua_specs <- function(coin, N) {
  l_winmax <- list(Address = "$Log$Treat$global_specs$f1_para$winmax", Distribution = 1:5, Type = "discrete")
  l_norm <- list(Address = "$Log$Normalise$global_specs",
                 Distribution = list(list(f_n = "n_minmax", f_n_para = list(c(1, 100))),
                                     list(f_n = "n_zscore", f_n_para = list(c(10, 2)))),
                 Type = "discrete")
  noisy <- get_noisy_weights(w = coin$Meta$Weights$Original,
                             noise_specs = data.frame(Level = 2:3, NoiseFactor = c(0.25, 0.25)), Nrep = N)
  l_weights <- list(Address = "$Log$Aggregate$w", Distribution = noisy, Type = "discrete")
  l_agg <- list(Address = "$Log$Aggregate$f_ag", Distribution = c("a_amean", "a_gmean"), Type = "discrete")
  list(Winmax = l_winmax, Normalisation = l_norm, Weights = l_weights, Aggregation = l_agg)
}

timed <- function(f, k = 1) {
  best <- Inf
  for (i in seq_len(k)) {
    t0 <- Sys.time()
    f()
    best <- min(best, as.numeric(difftime(Sys.time(), t0, units = "secs")))
  }
  best
}

count <- function(words, at) if (length(words) >= at) as.integer(words[at]) else 1L

serve <- function() {
  coins <- list()
  example <- build_example_coin(quietly = TRUE)
  con <- file("stdin")
  open(con)
  repeat {
    line <- readLines(con, n = 1)
    if (length(line) == 0) break
    words <- strsplit(trimws(line), " ", fixed = TRUE)[[1]]
    if (words[1] == "quit") break
    answer <- tryCatch({
      if (words[1] == "normagg") {
        key <- paste(words[2], words[3])
        if (is.null(coins[[key]])) coins[[key]] <- coin_of(words[2], words[3])
        coin <- coins[[key]]
        secs <- timed(function() norm_agg(coin), count(words, 4))
      } else if (words[1] == "example") {
        secs <- timed(function() build_example_coin(quietly = TRUE), count(words, 2))
      } else if (words[1] == "ua") {
        N <- as.integer(words[2])
        specs <- ua_specs(example, N)
        secs <- timed(function() get_sensitivity(example, SA_specs = specs, N = N, SA_type = "UA",
                                                 dset = "Aggregated", iCode = "Index", quietly = TRUE))
      } else {
        stop(paste("unknown command", words[1]))
      }
      sprintf("TIME %.6f", secs)
    }, error = function(e) paste("ERROR", gsub("[\r\n]+", " ", conditionMessage(e))))
    cat(answer, "\n", sep = "")
    flush(stdout())
  }
}

build <- function(meta, data, out) {
  coin <- suppressMessages(norm_agg(coin_of(meta, data)))
  dir.create(out, showWarnings = FALSE, recursive = TRUE)
  results <- get_results(coin, dset = "Aggregated", tab_type = "Full", also_get = "uCode")
  utils::write.csv(results, file.path(out, "results.csv"), row.names = FALSE)
  utils::write.csv(get_dset(coin, "Normalised"), file.path(out, "normalised.csv"), row.names = FALSE)
}

args <- commandArgs(trailingOnly = TRUE)
if (length(args) >= 1 && args[1] == "serve") {
  serve()
} else if (length(args) == 4 && args[1] == "build") {
  build(args[2], args[3], args[4])
} else {
  stop("usage: coinr_bench.R serve | build <iMeta.csv> <iData.csv> <out folder>")
}
