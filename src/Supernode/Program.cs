// Composition root: replaced by the supernode issue's AddSupernode/MapSupernodeApi wiring.
Console.WriteLine("supernode: the Dragonfly tracker, scheduler and CDN cache.");
return 0;
