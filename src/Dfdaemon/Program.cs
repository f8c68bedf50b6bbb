Console.WriteLine("dfdaemon: the Dragonfly registry mirror and proxy.");
return 0;
