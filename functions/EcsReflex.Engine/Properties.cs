[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("EcsReflex.Engine.Tests")]
